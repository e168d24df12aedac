"""`field__any_of=[...]`: membership in a list bound as ONE parameter.

`field__in=[...]` sends one placeholder per value, which Django prepares and the
driver quotes value by value: most of the time of a query over fifty thousand ids, and
beyond SQLite's limit of parameters. This lookup binds the whole list once: an array
on PostgreSQL (`IN (SELECT unnest(%s))`), a JSON array read by `json_each` on SQLite.
"""

import json

from django.db.models import Field, ForeignObject, Lookup


def array_literal(values) -> str:
    """PostgreSQL's text form of an array of numbers or strings, cast by the query.

    One string the driver sends as it is: handing it a list makes it adapt fifty
    thousand values one by one in Python.
    """
    if all(type(v) is int for v in values):
        return "{" + ",".join(map(str, values)) + "}"
    return "{" + ",".join(_element(v) for v in values) + "}"


def _element(value) -> str:
    if value is None:
        return "NULL"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        values = list(value)
        if connection.vendor == "postgresql":
            return "%s", [array_literal(values)]
        return "%s", [json.dumps(values)]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if connection.vendor == "postgresql":
            # Not `= ANY(%s)`: PostgreSQL compares each row with the array value by value,
            # while a set it can hash or look up by index.
            element = self.lhs.output_field.db_type(connection)
            return f"{lhs} IN (SELECT unnest({rhs}::{element}[]))", [*lhs_params, *rhs_params]
        return f"{lhs} IN (SELECT value FROM json_each({rhs}))", [*lhs_params, *rhs_params]


Field.register_lookup(AnyOf)
# Foreign keys have lookups of their own: `organization_id__any_of` needs this too.
ForeignObject.register_lookup(AnyOf)
