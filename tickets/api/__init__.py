"""The REST API of the help desk: serializers validate, viewsets call services and selectors."""
