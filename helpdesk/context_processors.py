from helpdesk.roles import Role, has_role


def role(request) -> dict:
    user = request.user
    return {
        "is_lead": has_role(user, Role.LEAD),
        "is_admin": has_role(user, Role.ADMIN),
    }
