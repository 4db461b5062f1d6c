"""The role groups, as data: a flush in a transactional test removes them and the serialized
rollback puts them back, which a post_migrate handler creating them again would collide with."""

from django.db import migrations

ROLE_GROUPS = ("Agent", "Team lead", "Admin")


def create_role_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_GROUPS:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("helpdesk", "0002_token_scopes"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_role_groups, migrations.RunPython.noop)]
