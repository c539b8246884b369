"""The ``batch`` method: up to 50 ``method?query`` commands with ``$result[...]`` references
(settings/how-to-call-rest-api/batch.md). One HTTP request for the bucket, N commands for budgets."""

import re
import time
from urllib.parse import unquote

from . import phpform
from .errors import ApiError
from .rest import normalize_method, run_command, time_block

MAX_COMMANDS = 50
_REFERENCE = re.compile(r"\$result\[([^\]]+)\]((?:\[[^\]]*\])*)")


def _resolve_reference(results, match):
    key = match.group(1)
    if key not in results:
        return match.group(0)
    value = results[key]
    for part in re.findall(r"\[([^\]]*)\]", match.group(2)):
        if isinstance(value, list):
            value = value[int(part)] if part.isdigit() and int(part) < len(value) else None
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            value = None
    if isinstance(value, bool):
        return "1" if value else ""
    return "" if value is None else str(value)


def substitute(command, results):
    """Replace ``$result[key]``, ``$result[key][field]``, ``$result[key][0][ID]`` in a command string."""
    return _REFERENCE.sub(lambda m: _resolve_reference(results, m), command)


def _substitute_values(node, results):
    if isinstance(node, dict):
        return {key: _substitute_values(value, results) for key, value in node.items()}
    if isinstance(node, list):
        return [_substitute_values(value, results) for value in node]
    return substitute(node, results) if isinstance(node, str) and "$result" in node else node


def parse_command(command, results):
    """Parse ``method?query`` PHP-style, then resolve references inside the parsed values."""
    name, _, query = command.partition("?")
    return normalize_method(unquote(name)), _substitute_values(phpform.parse_query(query), results)


def _commands(params):
    cmd = params.get("cmd") or {}
    if isinstance(cmd, list):
        cmd = {str(i): value for i, value in enumerate(cmd)}
    if not isinstance(cmd, dict):
        raise ApiError("ERROR_BATCH_METHOD_NOT_ALLOWED", "Wrong cmd parameter", 400)
    if len(cmd) > MAX_COMMANDS:
        raise ApiError("ERROR_BATCH_LENGTH_EXCEEDED", f"Max batch length exceeded ({MAX_COMMANDS})", 400)
    return cmd


def run_batch(emulator, portal, user, params, started):
    commands = _commands(params)
    halt = str(params.get("halt", "0")).lower() in ("1", "true", "y")
    results, errors, totals, nexts, times = {}, {}, {}, {}, {}
    for key, command in commands.items():
        sub_started = time.time()
        name, sub_params = parse_command(str(command), results)
        sub_params.pop("auth", None)
        try:
            if name == "batch":
                raise ApiError("ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage", 405)
            outcome, operating, reset_at = run_command(emulator, portal, user, name, sub_params)
        except ApiError as error:
            emulator.stats.count("errors", error.code)
            errors[key] = error.payload()
            if halt:
                break
            continue
        results[key] = outcome.result
        if outcome.total is not None:
            totals[key] = outcome.total
        if outcome.next is not None:
            nexts[key] = outcome.next
        times[key] = time_block(sub_started, operating, reset_at)
    body = {
        "result": results,
        "result_error": errors,
        "result_total": totals,
        "result_next": nexts,
        "result_time": times,
    }
    # empty maps come back as [] like PHP's empty arrays
    return {"result": {key: value or [] for key, value in body.items()}, "time": time_block(started)}
