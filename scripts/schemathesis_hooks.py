"""Schemathesis hooks for Rapport (loaded by scripts/schemathesis.sh).

Two things the OpenAPI document cannot carry:

1. The run's own credentials. Schemathesis learns ids from responses and
   tries them in paths, so it would sooner or later revoke its own token or
   deactivate its own user, and every later request would get 401. Requests
   that would change them are sent to an id that does not exist instead.

2. Rules that JSON Schema cannot state. A schema-valid request that breaks
   one of them gets 422, and the positive-data check would call that a
   mismatch between the document and the server. Only a 422 whose every
   field error is one of the rules below is let through, so any other
   refusal of valid data still fails. docs/api.md lists the same rules.
"""

import os
import re
import threading
import uuid

import schemathesis
from hypothesis.internal import lambda_sources

# Some CPython 3.11 releases (gh-106905) cannot build ASTs in two threads at once
# ("AST constructor recursion depth mismatch"), and Hypothesis parses source
# to describe lambdas while both workers generate: one at a time, then.
_describe_lambda = lambda_sources.lambda_description
_describing = threading.Lock()


def _describe_one_at_a_time(function):
    with _describing:
        return _describe_lambda(function)


lambda_sources.lambda_description = _describe_one_at_a_time

# The paths through which the run could lock itself out, with its own id.
OWN_CREDENTIALS = {
    "/api/v1/users/{id}": os.environ.get("RAPPORT_ST_USER_ID", ""),
    "/api/v1/tokens/{id}": os.environ.get("RAPPORT_ST_TOKEN_ID", ""),
}


@schemathesis.hook
def before_call(context, case, kwargs):
    own = OWN_CREDENTIALS.get(case.operation.path)
    if own and case.method.upper() != "GET" and str(case.path_parameters.get("id", "")).lower() == own.lower():
        case.path_parameters["id"] = str(uuid.uuid4())


# (field, message) patterns of the rules schemas cannot state.
UNSTATABLE_RULES = [
    # What exists is data: a reference to a record, a custom field's
    # definition, the questionnaire's questions, a list's cursors, the
    # caller's team, today's date.
    (r".*", r"^no such "),
    (r"custom_fields\..*", r".*"),
    (r"scores\..*", r"^is not a question of the questionnaire$"),
    (r".*", r"^is not a question of this survey$"),
    (r"scope\.user_id", r"^is not a staff member$"),
    (r"month", r"^must not be after this month$"),
    (r"cursor", r"^(is )?not a cursor from this list$"),
    # A bulk change's filter matches records that exist now.
    (r"filter", r"^matches (no records|more than \d+ records)"),
    # A condition on a custom field: its kind and choices are data.
    (r"where", r" \(in custom\.[a-z][a-z0-9_]*\..*\)$"),
    (r"queue", r"^you are in no team$"),
    (r"due_on", r"^must be (a day after today|within 5 years)$"),
    (r"birthday", r"^must not be after today$"),
    (r"key|kind|entity_type", r"^the (key|kind|record type) of a custom field cannot change$"),
    (r"password", r"^is required( with a username)?$"),
    # One value against another: JSON Schema cannot compare two values, and
    # a query parameter's schema cannot depend on another parameter.
    (r"from", r"^must (be before|not be after) to$"),
    (r"view_id", r"^give either a view_id or a query$"),
    (r"emails|phones|addresses", r"^only one entry may be primary$"),
    # An address names at least one of its parts, besides label and primary.
    (r"addresses\[\d+\]", r"^needs at least one of street, locality, region, postal_code and country$"),
    (r"from", r"^a scorecard covers at most a year$"),
    (r"reminder_days", r"^must be at least 1 and fewer than the days the link stays open$"),
    (r"days", r"^applies only to the no_purchase definition$"),
    (r"team_id", r"^give a user_id or a team_id, not both$"),
    (r"periods\[\d+\]", r"^(must start before it ends|overlaps another period on \w+)$"),
    (r"target", r"^must be between -?\d+ and \d+ for "),
    # A day that the calendar does not have (2026-02-30): a pattern cannot
    # know the length of each month.
    (r"where", r" is not a day of the calendar as YYYY-MM-DD \(in "),
    (r"birthday", r"^(\d{4} has no 29 February|\w+ has no day \d+)$"),
    (r"stage_id", r"^this stage belongs to another pipeline$"),
    (r"b", r"^is the same record as a$"),
    (r"first_response_minutes", r"^a policy needs at least one target$"),
    (r"body", r"^write a subject or a body$"),
    (r"person_id", r"^an activity is about a person, a company or a deal$"),
    (r"assignee_id", r"^send assignee_id or status: there is nothing to change$"),
    (r"lost_reason", r"^only a lost deal has a lost reason$"),
    (r"choices", r"^a choice field needs at least one choice$"),
    (r"choices", r"^only choice fields have choices$"),
    (r"required", r"^is not offered for ticket fields"),
    # Values that must differ from each other (names compared as Rapport
    # keeps them, trimmed and in any case), which utoipa cannot write as
    # uniqueItems.
    (r"choices", r"^choices must be unique$"),
    (r"colleague_ids", r"^ask at least 3 colleagues"),
    (r"questions\[\d+\]\.choices", r"^(a choice question needs at least two options|only choice questions have options)$"),
    (r"questions\[\d+\]\.key", r"^is used by another question$"),
    (r"stages", r"^stage names must be unique$"),
    (r"colleague_ids", r"^the subject cannot give colleague feedback on themselves$"),
    # A string that carries its own format: the uploaded file's CSV or
    # vCard, and the mapping's JSON (whose fields depend on the kind).
    (r"file|mapping", r".*"),
    # A bulk change's filter: a list's query string, whose parameters
    # answer to that list (named filter.<parameter>).
    (r"filter\..+", r".*"),
]


def is_unstatable(field, message):
    return any(
        re.fullmatch(field_pattern, field, re.DOTALL) and re.search(message_pattern, message)
        for field_pattern, message_pattern in UNSTATABLE_RULES
    )


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """False drops the failure: a 422 that only names rules a schema cannot state."""
    if failure.code != "ST202" or response.status_code != 422:
        return True
    try:
        fields = response.json()["error"]["fields"]
    except (ValueError, KeyError, TypeError):
        return True
    if not fields:
        return True
    return not all(is_unstatable(field, message) for field, message in fields.items())
