"""Django's model permissions for the operator, read from accounts.permissions (one source of truth)."""

from accounts import permissions
from accounts.permissions import Perm


class OperatorPermissionBackend:
    """Grants the Django admin's model permissions to the network operator; authenticates nobody."""

    def authenticate(self, request, **credentials):
        return None

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return (
            user_obj.is_active and user_obj.is_staff and permissions.has_perm(user_obj, Perm.OPERATOR_ADMIN)
        )

    def has_module_perms(self, user_obj, app_label) -> bool:
        return self.has_perm(user_obj, f"{app_label}.*")
