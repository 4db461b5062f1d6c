from django.db import migrations

DEFAULTS = (
    {
        "slug": "behaviour",
        "name": "Behaviour",
        "kind": "clustered",
        "description": "Learned from purchases, ticket volume and channel preference.",
        "k_min": 3,
        "k_max": 8,
    },
    {
        "slug": "rfm",
        "name": "RFM",
        "kind": "rfm",
        "description": "Recency, frequency and monetary value of purchases.",
        "k_min": 2,
        "k_max": 11,
    },
)


def create_defaults(apps, schema_editor):
    Segmentation = apps.get_model("segments", "Segmentation")
    for default in DEFAULTS:
        Segmentation.objects.get_or_create(slug=default["slug"], defaults=default)


def remove_defaults(apps, schema_editor):
    Segmentation = apps.get_model("segments", "Segmentation")
    Segmentation.objects.filter(slug__in=[d["slug"] for d in DEFAULTS], runs=None).delete()


class Migration(migrations.Migration):
    dependencies = [("segments", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, remove_defaults)]
