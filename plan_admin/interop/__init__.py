"""Open Cap Format (OCF 1.2.0): the plan's ledger out as an OCF package, and OCF packages in by replay.

- ocf_schema.py    the official schemas (settings.OCF_SCHEMA_DIR), a local `referencing` registry, validation with
                   the file, the object and the field named
- ocf_ids.py       stable OCF ids, and what plan-admin keeps of OCF for a plan (plan_admin.models.OcfObject)
- ocf_export.py    export_plan(): a directory or a .zip, streamed, every object validated as it is written
- ocf_import.py    import_package(): read, validate, and replay through plan_admin.services as history entered
                   from records, all or nothing, every refusal naming its OCF object
- board_record.py  the plan-admin board record: what OCF has no object for (designations, votes, lapses, year
                   closings, proposals, who recorded what), as a Document of the package
- package.py       reading and writing a package (directory or zip) with md5s, safely
- issuer.py        the issuer's details OCF requires and the ledger does not hold
- views.py, admin.py  the board's download, the admin's issuer details and import with a preview

README.md ("Open Cap Format") says what maps where and what is refused.
"""
