"""The schema's revisions, oldest first: 0001 is the schema the service made with create_all before it had
migrations. New ones: see README "Schema migrations"."""
