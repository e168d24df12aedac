from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person; logs in by e-mail. Staff (is_staff) work in /staff/."""

    email = models.EmailField(_("e-mail"), unique=True)
    full_name = models.CharField(_("имя"), max_length=200, blank=True)
    is_staff = models.BooleanField(_("сотрудник"), default=False)
    is_active = models.BooleanField(_("активен"), default=True)
    reminders_enabled = models.BooleanField(_("получать напоминания"), default=True)
    date_joined = models.DateTimeField(_("зарегистрирован"), default=dj_timezone.now)
    # Empty until the person picks a language: then the pick follows them to every browser.
    language = models.CharField(
        _("язык интерфейса"), max_length=8, blank=True, choices=[("ru", _("Русский")), ("en", _("English"))]
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    class Meta:
        verbose_name = _("пользователь")
        verbose_name_plural = _("пользователи")

    def __str__(self):
        return self.full_name or self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


class Organization(models.Model):
    """A customer organization with the requisites printed on its invoices."""

    name = models.CharField(_("полное наименование"), max_length=300)
    short_name = models.CharField(_("краткое наименование"), max_length=200)
    inn = models.CharField(_("ИНН"), max_length=12, unique=True)
    kpp = models.CharField(_("КПП"), max_length=9, blank=True)
    ogrn = models.CharField(_("ОГРН/ОГРНИП"), max_length=15, blank=True)
    legal_address = models.CharField(_("юридический адрес"), max_length=500)
    email = models.EmailField(_("e-mail для документов"), blank=True)
    timezone = models.CharField(_("часовой пояс"), max_length=64, default="Europe/Moscow")
    created_at = models.DateTimeField(_("создана"), default=dj_timezone.now)
    lapsed_notice_hidden_until = models.DateField(
        _("уведомление об окончании подписки скрыто до"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("организация")
        verbose_name_plural = _("организации")

    def __str__(self):
        return self.short_name or self.name

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_entrepreneur(self) -> bool:
        return len(self.inn) == 12

    def requisites(self) -> dict:
        """The requisites as frozen on an order or invoice."""
        return {
            "name": self.name,
            "short_name": self.short_name,
            "inn": self.inn,
            "kpp": self.kpp,
            "ogrn": self.ogrn,
            "address": self.legal_address,
            "email": self.email,
        }


class MembershipQuerySet(models.QuerySet):
    def managers(self):
        """Owners and admins: the people who buy, pay and edit requisites."""
        return self.filter(role__in=Membership.MANAGER_ROLES)


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("владелец")
        ADMIN = "admin", _("администратор")
        MEMBER = "member", _("сотрудник")

    # Owners and admins buy, pay and edit requisites; members only look.
    MANAGER_ROLES = (Role.OWNER, Role.ADMIN)

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("пользователь"))
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships",
        verbose_name=_("организация"),
    )
    role = models.CharField(_("роль"), max_length=10, choices=Role.choices, default=Role.MEMBER)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("участник")
        verbose_name_plural = _("участники")
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="uniq_membership")
        ]

    def __str__(self):
        return f"{self.user} — {self.organization} ({self.role})"

    @property
    def can_manage(self) -> bool:
        """Owners and admins buy, pay and edit requisites; members only look."""
        return self.role in self.MANAGER_ROLES


class LoginFailure(models.Model):
    """A wrong password, kept while it counts towards a lockout (accounts.throttle)."""

    username = models.CharField(_("логин"), max_length=254)
    address = models.CharField(_("адрес"), max_length=45, blank=True)
    at = models.DateTimeField(_("когда"))

    class Meta:
        verbose_name = _("неудачный вход")
        verbose_name_plural = _("неудачные входы")
        indexes = [
            models.Index(fields=["username", "at"], name="login_failure_username"),
            models.Index(fields=["address", "at"], name="login_failure_address"),
        ]

    def __str__(self):
        return f"{self.username} ({self.address}) {self.at:%Y-%m-%d %H:%M}"
