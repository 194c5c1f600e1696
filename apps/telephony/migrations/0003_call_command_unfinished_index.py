from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("telephony", "0002_ingest_storage"),
    ]

    operations = [
        # The call-command sweep scans unfinished commands, oldest first (see services).
        migrations.AddIndex(
            model_name="callcommand",
            index=models.Index(
                condition=models.Q(("status__in", ["pending", "sent"])),
                fields=["updated_at"],
                name="telephony_command_unfinished",
            ),
        ),
    ]
