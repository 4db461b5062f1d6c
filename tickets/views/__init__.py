"""HTML views of the shared inbox: thin, they parse input with forms and call services/selectors."""
