"""SQL macros that turn other formats' values into tracecli's canonical shapes.

Installed next to tracecli.sql.macros (which they build on) before any reader runs:

- OTLP JSON `AnyValue`s ({stringValue|intValue|doubleValue|boolValue|bytesValue|arrayValue|
  kvlistValue}) into plain JSON, and `attributes` arrays into a MAP(VARCHAR, JSON);
- messages in the shapes agent frameworks log (GenAI `parts`, OpenInference flattened or nested
  `message.*` keys, LangChain serialised / dict / plain messages) into OpenAI chat messages
  {role, content, tool_calls: [{id, type: "function", function: {name, arguments}}], tool_call_id}.

Every macro is pure SQL over one value: no Python runs per row.
"""

from __future__ import annotations

import duckdb

from tracecli.sql.template import fill, literal

AV_DEPTH = 8  # nesting of arrayValue / kvlistValue that is decoded (messages need about 6)


_STR = r'"(?:[^"\\]|\\.)*"'  # one JSON string literal, escapes included
_FLAT = rf'(?:{_STR}|[^\[\]{{}}"])*'  # text holding no raw bracket or brace outside strings
# Scalar AnyValues, then (repeated, innermost first) kvlist entries, kvlists and arrays; the
# converted containers' brackets become control characters (never raw in JSON text) so that
# their parents become innermost in the next pass; the last step restores them.
_AV_SCALARS = [
    (rf'\{{"stringValue":({_STR})\}}', r'\1'),
    (r'\{"intValue":"?(-?[0-9]+)"?\}', r'\1'),
    (r'\{"doubleValue":"?(-?[0-9][0-9.eE+-]*)"?\}', r'\1'),
    (r'\{"doubleValue":"?(?:NaN|-?Infinity)"?\}', 'null'),
    (r'\{"boolValue":"?(true|false)"?\}', r'\1'),
    (rf'\{{"bytesValue":({_STR})\}}', r'\1'),
    (r'"value":\{\}', '"value":null'),
    (r'\{"(?:arrayValue|kvlistValue)":\{\}\}', 'null'),
    (r'^\{\}$', 'null'),  # an empty AnyValue; anchored, so "{}" inside strings stays text
]
_AV_PASS = [
    (rf'\{{"key":({_STR}),"value":({_FLAT})\}}', r'\1:\2'),
    (rf'\{{"key":({_STR})\}}', r'\1:null'),
    (rf'\{{"kvlistValue":\{{"values":\[({_FLAT})\]\}}\}}', '\x03\\1\x04'),
    (rf'\{{"arrayValue":\{{"values":\[({_FLAT})\]\}}\}}', '\x05\\1\x06'),
]


# How an OTLP attribute list is parsed (json_transform): the AnyValue stays JSON.
KV_LIST = '[{"key":"VARCHAR","value":"JSON"}]'


def _av_macro() -> str:
    """AnyValue JSON text (minified) to plain JSON, by regular-expression passes over it.

    Nested lambdas would do it too, but DuckDB binds them in time exponential in the depth. A
    scalar AnyValue (most attributes: strings of any length) is the one replacement its
    pattern makes, tested by one full match rather than every pass run over it (no later pass
    can match in what is left: a scalar)."""
    expr = "t"
    for pattern, replacement in _AV_SCALARS + _AV_PASS * AV_DEPTH:
        expr = fill("regexp_replace({{text}}, {{pattern}}, {{replacement}}, 'g')", text=expr,
                    pattern=literal(pattern), replacement=literal(replacement))
    # the brackets of converted containers back from control characters
    expr = fill("translate({{text}}, chr(3) || chr(4) || chr(5) || chr(6), '{}[]')", text=expr)
    scalars = "".join(
        fill("WHEN regexp_full_match(t, {{pattern}}) THEN TRY_CAST(regexp_replace(t, {{pattern}}, "
             "{{replacement}}) AS JSON)\n", pattern=literal(pattern), replacement=literal(replacement))
        for pattern, replacement in _AV_SCALARS if pattern.startswith(r"\{") or pattern.startswith("^"))
    return fill("CREATE OR REPLACE TEMP MACRO tcx_av_text(t) AS CASE WHEN t IS NULL THEN NULL\n"
                "{{scalars}}ELSE TRY_CAST({{text}} AS JSON) END", scalars=scalars, text=expr)


MACROS: list[str] = [
    _av_macro(),
    "CREATE OR REPLACE TEMP MACRO tcx_av(v) AS tcx_av_text(CAST(json(v) AS VARCHAR))",
    # Entries [{key, value}] as a map; a repeated key keeps its first value. (Keys all distinct
    # and present, the usual case, need no filter, which costs a list per entry.)
    """CREATE OR REPLACE TEMP MACRO tcx_map(es) AS CASE
         WHEN len(list_distinct(list_transform(es, lambda y: y.key))) = len(es) THEN map_from_entries(es)
         ELSE map_from_entries(list_filter(es,
           lambda x, i: x.key IS NOT NULL AND list_position(list_transform(es, lambda y: y.key), x.key) = i)) END""",
    # OTLP `attributes` parsed as KV_LIST: [{key, value: AnyValue}] as entries {key, value:
    # plain JSON}. A string (most values, and the long ones: prompts, outputs) is taken by the
    # JSON parser rather than by the regular expressions, which cost 4x as much over its text.
    """CREATE OR REPLACE TEMP MACRO tcx_kv_list(l) AS list_transform(l, lambda kv: {'key': kv.key,
         'value': CASE WHEN starts_with(kv.value, '{"stringValue":') AND json_keys(kv.value) = ['stringValue']
                            AND json_type(kv.value, '$.stringValue') = 'VARCHAR'
                         THEN to_json(kv.value->>'$.stringValue')
                       ELSE tcx_av_text(CAST(kv.value AS VARCHAR)) END})""",
    # The same from JSON text, where the attributes were not parsed with their record.
    f"""CREATE OR REPLACE TEMP MACRO tcx_kv_entries(x) AS CASE
         WHEN json_type(x) = 'ARRAY' THEN tcx_kv_list(json_transform(x, '{KV_LIST}')) END""",
    # An attribute as text (strings unquoted, other values as JSON text).
    "CREATE OR REPLACE TEMP MACRO tcx_s(m, k) AS nullif(tc_text(m[k]), '')",
    # Hex ids; base64 ids (proto3 JSON default) and 0x-prefixed ids are converted.
    """CREATE OR REPLACE TEMP MACRO tcx_id(x) AS CASE
         WHEN x IS NULL OR trim(x) = '' THEN NULL
         WHEN regexp_full_match(x, '0x[0-9a-fA-F]+') THEN lower(x[3:])
         WHEN regexp_full_match(x, '[0-9a-fA-F]{16}|[0-9a-fA-F]{32}') THEN lower(x)
         WHEN regexp_full_match(x, '[A-Za-z0-9+/]{11}=|[A-Za-z0-9+/]{22}==')
           THEN coalesce(lower(hex(TRY(from_base64(x)))), x)
         ELSE x END""",
    # Text that should be JSON: JSON itself, a Python repr of a dict/list, or else a JSON string.
    """CREATE OR REPLACE TEMP MACRO tcx_loose_json(s) AS CASE
         WHEN s IS NULL THEN NULL
         WHEN json_valid(s) AND left(ltrim(s), 1) IN ('{', '[') THEN s::JSON
         WHEN left(ltrim(s), 1) IN ('{', '[') AND json_valid(regexp_replace(regexp_replace(
                regexp_replace(replace(s, '''', '"'), '\\bTrue\\b', 'true', 'g'),
                '\\bFalse\\b', 'false', 'g'), '\\bNone\\b', 'null', 'g'))
           THEN regexp_replace(regexp_replace(regexp_replace(replace(s, '''', '"'),
                '\\bTrue\\b', 'true', 'g'), '\\bFalse\\b', 'false', 'g'), '\\bNone\\b', 'null', 'g')::JSON
         ELSE to_json(s) END""",
    # Tool-call arguments as the JSON string OpenAI bodies carry.
    """CREATE OR REPLACE TEMP MACRO tcx_args(x) AS CASE
         WHEN x IS NULL OR json_type(x) = 'NULL' THEN NULL
         WHEN json_type(x) = 'VARCHAR' THEN json_extract_string(x, '$') ELSE CAST(x AS VARCHAR) END""",
    "CREATE OR REPLACE TEMP MACRO tcx_obj(o) AS json_merge_patch('{}', o)",
    # tc_json with a JSON type even for a constant NULL (lambdas need a typed list).
    "CREATE OR REPLACE TEMP MACRO tcx_j(x) AS CAST(tc_json(CAST(x AS JSON)) AS JSON)",
    # --- LangChain and plain chat messages ------------------------------------------------
    # Tool calls as OpenAI ones, from OpenAI's shape or LangChain's [{name, args, id}].
    """CREATE OR REPLACE TEMP MACRO tcx_calls(x) AS CASE
         WHEN json_array_length(x) > 0 THEN to_json(list_transform(json_extract(x, '$[*]'),
           lambda c: CASE WHEN json_exists(c, '$.function') THEN tcx_obj(json_object(
               'id', json_extract_string(c, 'id'), 'type', 'function', 'function', json_object(
                 'name', json_extract_string(json_extract(c, 'function'), 'name'), 'arguments', tcx_args(json_extract(json_extract(c, 'function'), 'arguments')))))
             ELSE tcx_obj(json_object('id', json_extract_string(c, 'id'), 'type', 'function', 'function', json_object(
                 'name', json_extract_string(c, 'name'), 'arguments', tcx_args(coalesce(json_extract(c, 'args'), json_extract(c, 'arguments'), json_extract(c, 'input'))))))
             END)) END""",
    # The fields of a message: LangChain serialised ({lc, kwargs}), message_to_dict ({type, data}),
    # or the message itself.
    """CREATE OR REPLACE TEMP MACRO tcx_lc_body(m) AS CASE
         WHEN json_exists(m, '$.lc') AND json_exists(m, '$.kwargs') THEN json_extract(m, 'kwargs')
         WHEN json_type(m, '$.data') = 'OBJECT' AND json_exists(m, '$.type') THEN json_extract(m, 'data')
         ELSE m END""",
    """CREATE OR REPLACE TEMP MACRO tcx_lc_role(r) AS CASE lower(r)
         WHEN 'human' THEN 'user' WHEN 'humanmessage' THEN 'user' WHEN 'humanmessagechunk' THEN 'user'
         WHEN 'ai' THEN 'assistant' WHEN 'aimessage' THEN 'assistant' WHEN 'aimessagechunk' THEN 'assistant'
         WHEN 'systemmessage' THEN 'system' WHEN 'toolmessage' THEN 'tool' WHEN 'functionmessage' THEN 'function'
         WHEN 'chatmessage' THEN 'user' ELSE lower(r) END""",
    """CREATE OR REPLACE TEMP MACRO tcx_lc_msg2(m, b) AS CASE
         WHEN json_type(m) = 'VARCHAR' THEN json_object('role', 'user', 'content', json_extract_string(m, '$'))
         WHEN json_type(m) <> 'OBJECT' THEN NULL
         ELSE tcx_obj(json_object(
           'role', tcx_lc_role(coalesce(json_extract_string(b, 'role'),
             CASE WHEN json_extract_string(b, 'type') NOT IN ('constructor', 'message', 'function_call') THEN json_extract_string(b, 'type') END,
             CASE WHEN json_extract_string(m, 'type') NOT IN ('constructor', 'message') THEN json_extract_string(m, 'type') END,
             json_extract_string(json_extract(m, 'id'), '$[#-1]'))),
           'content', nullif(tc_content(json_extract(b, 'content')), ''),
           'name', CASE WHEN lower(coalesce(json_extract_string(b, 'role'), json_extract_string(b, 'type'), '')) IN ('tool', 'function') THEN json_extract_string(b, 'name') END,
           'tool_call_id', json_extract_string(b, 'tool_call_id'),
           'tool_calls', coalesce(tcx_calls(json_extract(b, 'tool_calls')), tcx_calls(json_extract(json_extract(b, 'additional_kwargs'), 'tool_calls'))))) END""",
    "CREATE OR REPLACE TEMP MACRO tcx_lc_msg(m) AS tcx_lc_msg2(m, tcx_lc_body(m))",
    # A list of messages (LangSmith nests it once more: [[...]]) as OpenAI messages.
    """CREATE OR REPLACE TEMP MACRO tcx_lc_msgs(x) AS CASE
         WHEN json_type(tcx_j(x)) <> 'ARRAY' THEN NULL
         WHEN json_type(tcx_j(x), '$[0]') = 'ARRAY' THEN to_json(list_transform(
           json_extract(tcx_j(x), '$[0][*]'), lambda m: tcx_lc_msg(m)))
         ELSE to_json(list_transform(json_extract(tcx_j(x), '$[*]'), lambda m: tcx_lc_msg(m))) END""",
    # --- GenAI semantic conventions: messages of `parts` ---------------------------------
    """CREATE OR REPLACE TEMP MACRO tcx_part_text(ps) AS nullif(array_to_string(list_transform(
         list_filter(ps, lambda p: coalesce(json_extract_string(p, 'type'), 'text') = 'text'
                                   AND json_type(p) IN ('OBJECT', 'VARCHAR')),
         lambda p: CASE WHEN json_type(p) = 'VARCHAR' THEN json_extract_string(p, '$') ELSE tc_content(json_extract(p, 'content')) END), ''), '')""",
    """CREATE OR REPLACE TEMP MACRO tcx_part_calls(ps) AS CASE
         WHEN len(list_filter(ps, lambda p: json_extract_string(p, 'type') = 'tool_call')) > 0
         THEN to_json(list_transform(list_filter(ps, lambda p: json_extract_string(p, 'type') = 'tool_call'),
           lambda p: tcx_obj(json_object('id', json_extract_string(p, 'id'), 'type', 'function', 'function',
             json_object('name', json_extract_string(p, 'name'), 'arguments', tcx_args(json_extract(p, 'arguments'))))))) END""",
    # One GenAI message as a list of OpenAI messages (a tool message per tool_call_response).
    """CREATE OR REPLACE TEMP MACRO tcx_genai_msg(m) AS CASE
         WHEN json_type(m, '$.parts') <> 'ARRAY' THEN [tcx_lc_msg(m)]
         WHEN len(list_filter(json_extract(m, '$.parts[*]'),
                              lambda p: json_extract_string(p, 'type') IN ('tool_call_response', 'tool_result'))) > 0
         THEN list_transform(list_filter(json_extract(m, '$.parts[*]'),
                              lambda p: json_extract_string(p, 'type') IN ('tool_call_response', 'tool_result')),
           lambda p: tcx_obj(json_object('role', 'tool', 'tool_call_id', json_extract_string(p, 'id'),
             'content', tc_content(coalesce(json_extract(p, 'response'), json_extract(p, 'result'), json_extract(p, 'content'))))))
         ELSE [tcx_obj(json_object('role', json_extract_string(m, 'role'),
           'content', tcx_part_text(json_extract(m, '$.parts[*]')),
           'tool_calls', tcx_part_calls(json_extract(m, '$.parts[*]')), 'name', json_extract_string(m, 'name')))] END""",
    """CREATE OR REPLACE TEMP MACRO tcx_genai_msgs(x) AS CASE
         WHEN json_type(tcx_j(x)) = 'ARRAY'
         THEN to_json(flatten(list_transform(json_extract(tcx_j(x), '$[*]'), lambda m: tcx_genai_msg(m)))) END""",
    # gen_ai.system_instructions: parts (or a string) as one system message, or NULL.
    """CREATE OR REPLACE TEMP MACRO tcx_genai_system(x) AS CASE
         WHEN json_type(tcx_j(x)) = 'ARRAY' THEN nullif(tcx_part_text(json_extract(tcx_j(x), '$[*]')), '')
         WHEN json_type(x) = 'VARCHAR' THEN nullif(json_extract_string(x, '$'), '') END""",
    # Output messages [{role, parts, finish_reason}] as OpenAI choices.
    """CREATE OR REPLACE TEMP MACRO tcx_genai_choices(x) AS CASE
         WHEN json_type(tcx_j(x)) = 'ARRAY' THEN to_json(list_transform(json_extract(tcx_j(x), '$[*]'),
           lambda m, i: tcx_obj(json_object('index', i - 1, 'message', tcx_genai_msg(m)[1],
                                            'finish_reason', json_extract_string(m, 'finish_reason'))))) END""",
    # Tool definitions: OpenAI's {type, function: {...}} or the flat {type, name, parameters}.
    """CREATE OR REPLACE TEMP MACRO tcx_tools(x) AS CASE
         WHEN json_type(tcx_j(x)) = 'ARRAY' THEN to_json(list_transform(json_extract(tcx_j(x), '$[*]'),
           lambda t: CASE WHEN json_exists(tcx_j(t), '$.function') THEN tcx_j(t)
                          ELSE tcx_obj(json_object('type', 'function', 'function', tcx_j(t))) END)) END""",
    # --- OpenInference: flattened `prefix.N.message.*` keys, or nested `message.*` lists ----
    """CREATE OR REPLACE TEMP MACRO tcx_indexes(m, p) AS list_sort(list_distinct(list_filter(
         list_transform(map_keys(m), lambda k: CASE WHEN starts_with(k, p || '.')
           THEN TRY_CAST(split_part(k[length(p) + 2:], '.', 1) AS INTEGER) END),
         lambda i: i IS NOT NULL)))""",
    """CREATE OR REPLACE TEMP MACRO tcx_oi_flat_msg(m, p) AS tcx_obj(json_object(
         'role', tcx_s(m, p || 'role'),
         'content', coalesce(tcx_s(m, p || 'content'), nullif(array_to_string(list_transform(
           tcx_indexes(m, p || 'contents'),
           lambda j: tcx_s(m, p || 'contents.' || j || '.message_content.text')), ''), '')),
         'name', tcx_s(m, p || 'name'),
         'tool_call_id', tcx_s(m, p || 'tool_call_id'),
         'tool_calls', CASE WHEN len(tcx_indexes(m, p || 'tool_calls')) > 0 THEN to_json(list_transform(
           tcx_indexes(m, p || 'tool_calls'), lambda j: tcx_obj(json_object(
             'id', tcx_s(m, p || 'tool_calls.' || j || '.tool_call.id'), 'type', 'function',
             'function', json_object(
               'name', tcx_s(m, p || 'tool_calls.' || j || '.tool_call.function.name'),
               'arguments', tcx_args(m[p || 'tool_calls.' || j || '.tool_call.function.arguments']))))))
           WHEN tcx_s(m, p || 'function_call_name') IS NOT NULL THEN to_json([json_object(
             'id', NULL, 'type', 'function', 'function', json_object(
               'name', tcx_s(m, p || 'function_call_name'),
               'arguments', tcx_args(m[p || 'function_call_arguments_json'])))]) END))""",
    # A nested item: {"message.role": ...} or {"message": {"role": ...}}.
    """CREATE OR REPLACE TEMP MACRO tcx_oi_get(x, k) AS coalesce(json_extract(x, 'message.' || k), json_extract(json_extract(x, 'message'), k))""",
    """CREATE OR REPLACE TEMP MACRO tcx_oi_call(c, k) AS coalesce(json_extract(c, 'tool_call.' || k),
         json_extract(c, '$.tool_call.' || k))""",
    """CREATE OR REPLACE TEMP MACRO tcx_oi_nested_msg(x) AS tcx_obj(json_object(
         'role', tcx_oi_get(x, 'role')->>'$',
         'content', coalesce(tc_content(tcx_oi_get(x, 'content')), nullif(array_to_string(list_transform(
           json_extract(tcx_oi_get(x, 'contents'), '$[*]'),
           lambda c: coalesce(json_extract_string(c, 'message_content.text'), json_extract_string(json_extract(c, 'message_content'), 'text'))), ''), '')),
         'name', tcx_oi_get(x, 'name')->>'$',
         'tool_call_id', tcx_oi_get(x, 'tool_call_id')->>'$',
         'tool_calls', CASE WHEN json_array_length(tcx_oi_get(x, 'tool_calls')) > 0 THEN to_json(list_transform(
           json_extract(tcx_oi_get(x, 'tool_calls'), '$[*]'), lambda c: tcx_obj(json_object(
             'id', tcx_oi_call(c, 'id')->>'$', 'type', 'function', 'function', json_object(
               'name', tcx_oi_call(c, 'function.name')->>'$',
               'arguments', tcx_args(tcx_oi_call(c, 'function.arguments'))))))) END))""",
    # Messages of an OpenInference span under `p` (llm.input_messages / llm.output_messages).
    """CREATE OR REPLACE TEMP MACRO tcx_oi_msgs(m, p) AS CASE
         WHEN json_type(tcx_j(m[p])) = 'ARRAY' THEN to_json(list_transform(
           json_extract(tcx_j(m[p]), '$[*]'), lambda x: tcx_oi_nested_msg(x)))
         WHEN len(tcx_indexes(m, p)) > 0 THEN to_json(list_transform(tcx_indexes(m, p),
           lambda i: tcx_oi_flat_msg(m, p || '.' || i || '.message.'))) END""",
    """CREATE OR REPLACE TEMP MACRO tcx_oi_tools(m) AS CASE
         WHEN json_type(tcx_j(m['llm.tools'])) = 'ARRAY' THEN to_json(list_transform(
           json_extract(tcx_j(m['llm.tools']), '$[*]'),
           lambda t: tcx_j(coalesce(json_extract(t, 'tool.json_schema'), json_extract(json_extract(t, 'tool'), 'json_schema')))))
         WHEN len(tcx_indexes(m, 'llm.tools')) > 0 THEN to_json(list_transform(tcx_indexes(m, 'llm.tools'),
           lambda i: tcx_j(m['llm.tools.' || i || '.tool.json_schema']))) END""",
    # A completion body: OpenAI's own, or built from one assistant message.
    """CREATE OR REPLACE TEMP MACRO tcx_completion(model, msg, finish, p, c, t) AS tcx_obj(json_object(
         'model', model,
         'choices', CASE WHEN msg IS NOT NULL THEN json_array(tcx_obj(json_object(
           'index', 0, 'message', msg, 'finish_reason', finish))) END,
         'usage', CASE WHEN coalesce(p, c, t) IS NOT NULL THEN tcx_obj(json_object(
           'prompt_tokens', p, 'completion_tokens', c,
           'total_tokens', tc_total_tokens(t, p, c))) END))""",
    # Key/value metadata as a flat text map, NULL values dropped.
    """CREATE OR REPLACE TEMP MACRO tcx_meta(es) AS tc_clean_map(tcx_map(
         list_filter(es, lambda e: e.value IS NOT NULL AND e.value <> '')))""",
    # A tags list (JSON array or JSON string of one) as "a,b".
    """CREATE OR REPLACE TEMP MACRO tcx_tags(x) AS CASE
         WHEN json_type(tcx_j(x)) = 'ARRAY' THEN nullif(array_to_string(list_transform(
           json_extract(tcx_j(x), '$[*]'), lambda t: tc_text(t)), ','), '')
         WHEN json_type(x) = 'VARCHAR' THEN nullif(json_extract_string(x, '$'), '') END""",
    # The attributes under `p.` (Langfuse metadata, Traceloop association properties) as
    # metadata entries {key after the prefix, value as text}; JSON-encoded values are decoded,
    # lists read as tags ("a,b").
    """CREATE OR REPLACE TEMP MACRO tcx_prefixed(m, p) AS list_transform(
         list_filter(map_entries(m), lambda e: starts_with(e.key, p || '.')),
         lambda e: {'key': e.key[length(p) + 2:],
                    'value': CASE WHEN json_type(tcx_j(e.value)) = 'ARRAY' THEN tcx_tags(e.value)
                                  ELSE tc_text(tcx_j(e.value)) END})""",
    # --- OpenLLMetry (Traceloop) before 0.55: `gen_ai.prompt.N.*`, `gen_ai.completion.N.*` -----
    # Content: text, or content parts JSON-encoded into one string (images, Anthropic blocks),
    # whose text parts are joined. (No lambda: these run inside two, where lambdas bind slowly.)
    """CREATE OR REPLACE TEMP MACRO tcx_tl_content(x) AS nullif(CASE
         WHEN json_type(x) <> 'VARCHAR' THEN CAST(x AS VARCHAR)
         WHEN starts_with(x->>'$', '[{') AND json_valid(x->>'$')
           THEN array_to_string(json_extract_string(x->>'$', '$[*].text'), '')
         ELSE x->>'$' END, '')""",
    # Arguments as the JSON string OpenAI bodies carry; the LangChain instrumentation json.dumps
    # them, which encodes a string once more.
    """CREATE OR REPLACE TEMP MACRO tcx_tl_args(x) AS CASE
         WHEN json_valid(tcx_args(x)) AND json_type(tcx_args(x)::JSON) = 'VARCHAR'
           THEN tcx_args(x)::JSON->>'$' ELSE tcx_args(x) END""",
    # One message's attributes (those under `p`, ending in '.') as a map by the rest of their
    # key: reading a field is then one lookup, which keeps the macros below small to bind.
    """CREATE OR REPLACE TEMP MACRO tcx_tl_fields(m, p) AS map_from_entries(list_transform(
         list_filter(map_entries(m), lambda e: starts_with(e.key, p)),
         lambda e: {'key': e.key[length(p) + 1:], 'value': e.value}))""",
    # A message's tool calls (`f`: its fields): `tool_calls.J.{id,name,arguments}`, or (before
    # 0.26) one `function_call.{name,arguments}`. (A list is built and an empty one dropped,
    # rather than its length tested first; the indexes are read from the keys by a regular
    # expression, not a lambda.)
    """CREATE OR REPLACE TEMP MACRO tcx_tl_calls(f) AS coalesce(
         nullif(to_json(list_transform(list_sort(list_distinct(CAST(regexp_extract_all(
             array_to_string(map_keys(f), chr(10)), '(?m)^tool_calls[.]([0-9]+)[.]', 1) AS INTEGER[]))),
           lambda j: tcx_obj(json_object(
           'id', tcx_s(f, 'tool_calls.' || j || '.id'), 'type', 'function', 'function', json_object(
             'name', tcx_s(f, 'tool_calls.' || j || '.name'),
             'arguments', tcx_tl_args(f['tool_calls.' || j || '.arguments'])))))), '[]'),
         CASE WHEN f['function_call.name'] IS NOT NULL THEN to_json([json_object(
           'type', 'function', 'function', json_object('name', tcx_s(f, 'function_call.name'),
             'arguments', tcx_tl_args(f['function_call.arguments'])))]) END)""",
    # One message (`f`: its fields); a completion prompt is `user` alone.
    """CREATE OR REPLACE TEMP MACRO tcx_tl_msg(f) AS tcx_obj(json_object(
         'role', coalesce(tcx_s(f, 'role'), CASE WHEN f['user'] IS NOT NULL THEN 'user' END),
         'content', coalesce(tcx_tl_content(f['content']), tcx_s(f, 'user')),
         'tool_call_id', tcx_s(f, 'tool_call_id'),
         'tool_calls', tcx_tl_calls(f)))""",
    # The messages under prefix `p` (gen_ai.prompt, or llm.prompts before 0.20), by numeric index.
    """CREATE OR REPLACE TEMP MACRO tcx_tl_msgs(m, p) AS nullif(to_json(list_transform(tcx_indexes(m, p),
         lambda i: list_transform([tcx_tl_fields(m, p || '.' || i || '.')], lambda f: tcx_tl_msg(f))[1])), '[]')""",
    # The completions under `p` (gen_ai.completion, llm.completions) as OpenAI choices.
    """CREATE OR REPLACE TEMP MACRO tcx_tl_choices(m, p) AS nullif(to_json(list_transform(tcx_indexes(m, p),
         lambda i: list_transform([tcx_tl_fields(m, p || '.' || i || '.')], lambda f: tcx_obj(json_object(
           'index', i, 'message', json_merge_patch('{"role": "assistant"}', tcx_tl_msg(f)),
           'finish_reason', tcx_s(f, 'finish_reason'))))[1])), '[]')""",
    # `llm.request.functions.N.{name,description,parameters}` as OpenAI tools.
    """CREATE OR REPLACE TEMP MACRO tcx_tl_tools(m) AS nullif(to_json(list_transform(
         tcx_indexes(m, 'llm.request.functions'), lambda i: json_object('type', 'function', 'function',
           tcx_obj(json_object(
             'name', tcx_s(m, 'llm.request.functions.' || i || '.name'),
             'description', tcx_s(m, 'llm.request.functions.' || i || '.description'),
             'parameters', tcx_j(m['llm.request.functions.' || i || '.parameters'])))))), '[]')""",
    # --- A function's logged input and output (Traceloop entity, Langfuse observation) --------
    # Input as the tool call's arguments: the decorators' {"args": [...], "kwargs": {...}} (the
    # keyword arguments, or a lone object argument), the LangChain callbacks' {"input_str",
    # "inputs"}, or a Python repr / JSON text of them.
    """CREATE OR REPLACE TEMP MACRO tcx_call_args(x) AS CASE
         WHEN json_type(x) = 'VARCHAR' THEN tcx_loose_json(x->>'$')
         WHEN json_type(x) <> 'OBJECT' THEN x
         WHEN json_exists(x, '$.input_str') THEN coalesce(
           CASE WHEN json_type(x, '$.inputs') = 'OBJECT' THEN json_extract(x, 'inputs') END,
           tcx_loose_json(json_extract_string(x, 'input_str')))
         WHEN list_sort(json_keys(x)) = ['args', 'kwargs'] AND json_type(x, '$.args') = 'ARRAY' THEN CASE
           WHEN json_array_length(x, '$.args') = 0 THEN json_extract(x, 'kwargs')
           WHEN json_array_length(x, '$.args') = 1 AND json_type(x, '$.args[0]') = 'OBJECT'
                AND coalesce(len(json_keys(x, '$.kwargs')), 0) = 0 THEN json_extract(x, '$.args[0]')
           ELSE x END
         ELSE x END""",
    # Output: the LangChain instrumentation's {"output": ..., "kwargs": ...} unwrapped.
    """CREATE OR REPLACE TEMP MACRO tcx_call_output(x) AS CASE
         WHEN json_type(x) = 'OBJECT' AND list_sort(json_keys(x)) = ['kwargs', 'output']
           THEN tcx_j(json_extract(x, 'output')) ELSE x END""",
    # A tool's result as text: a (serialised) ToolMessage's content (`b`: tcx_lc_body(v)), a
    # string, or JSON text.
    """CREATE OR REPLACE TEMP MACRO tcx_tool_text(v, b) AS CASE
         WHEN json_type(v) = 'OBJECT' AND json_exists(b, '$.content') THEN tc_content(json_extract(b, 'content'))
         ELSE nullif(tc_text(v), '') END""",
    # --- Langfuse OTel SDK: JSON-encoded observation input, output, usage and cost ---------
    # The LangChain handler appends the request's tools to its messages as {"role": "tool",
    # "content": <definition>} (langfuse/langchain/CallbackHandler.py __on_llm_action).
    """CREATE OR REPLACE TEMP MACRO tcx_lf_is_tool_def(m) AS coalesce(json_extract_string(m, 'role') = 'tool'
         AND json_type(m, '$.content') = 'OBJECT' AND NOT json_exists(m, '$.tool_call_id'), false)""",
    # A generation's input messages in LangChain or OpenAI form, tools left out: a list,
    # {"messages", "tools"} (the OpenAI wrapper), or an @observe function's {"args", "kwargs"}
    # holding them; text is one user message (a text that reads as JSON, "4", was decoded: it is
    # text again).
    """CREATE OR REPLACE TEMP MACRO tcx_lf_msg_list(x) AS CASE
         WHEN json_type(x) = 'ARRAY' THEN to_json(list_filter(json_extract(x, '$[*]'), lambda m: NOT tcx_lf_is_tool_def(m)))
         WHEN json_type(x, '$.messages') = 'ARRAY' THEN json_extract(x, 'messages')
         WHEN json_type(x, '$.kwargs.messages') = 'ARRAY' THEN json_extract(x, '$.kwargs.messages')
         WHEN json_type(x, '$.args[0]') = 'ARRAY' THEN json_extract(x, '$.args[0]')
         WHEN json_type(x) NOT IN ('OBJECT', 'NULL') THEN json_array(json_object('role', 'user', 'content', tc_text(x))) END""",
    """CREATE OR REPLACE TEMP MACRO tcx_lf_tools(x) AS CASE
         WHEN json_type(x) = 'ARRAY' AND len(list_filter(json_extract(x, '$[*]'), lambda m: tcx_lf_is_tool_def(m))) > 0
           THEN tcx_tools(to_json(list_transform(list_filter(json_extract(x, '$[*]'),
             lambda m: tcx_lf_is_tool_def(m)), lambda m: json_extract(m, 'content'))))
         WHEN json_type(x) = 'OBJECT' THEN tcx_tools(json_extract(x, 'tools')) END""",
    # A generation's output as an assistant message: a LangChain or OpenAI message (`b`:
    # tcx_lc_body(x)), or text (or a scalar a text decoded to).
    """CREATE OR REPLACE TEMP MACRO tcx_lf_msg(x, b) AS CASE
         WHEN json_type(x) = 'OBJECT' AND NOT json_exists(x, '$.choices')
           THEN json_merge_patch('{"role": "assistant"}', tcx_lc_msg2(x, b))
         WHEN json_type(x) NOT IN ('OBJECT', 'ARRAY', 'NULL') THEN json_object('role', 'assistant', 'content', tc_text(x)) END""",
    # usage_details: `input` / `output` leave out the `input_*` / `output_*` counts broken out of
    # them (cached, audio, reasoning...: CallbackHandler._parse_usage_model subtracts them), and
    # Anthropic's cache reads and writes; a call's prompt or completion is the sum. OpenAI usage
    # passed through as it is keeps prompt_tokens / completion_tokens.
    """CREATE OR REPLACE TEMP MACRO tcx_lf_tokens(u, side) AS CASE
         WHEN tc_tokens(json_extract(u, side)) IS NOT NULL THEN tc_tokens(json_extract(u, side))
           + coalesce(list_sum(list_transform(list_filter(map_entries(tc_map(u)), lambda e:
               (starts_with(e.key, side || '_') AND NOT starts_with(e.key, side || '_priority'))
               OR (side = 'input' AND (starts_with(e.key, 'cached_modality_')
                                       OR e.key IN ('cache_read_input_tokens', 'cache_creation_input_tokens')))),
             lambda e: coalesce(tc_tokens(e.value), 0))), 0)
         WHEN side = 'input' THEN coalesce(tc_tokens(json_extract(u, 'prompt_tokens')), tc_tokens(json_extract(u, 'input_tokens')))
         ELSE coalesce(tc_tokens(json_extract(u, 'completion_tokens')), tc_tokens(json_extract(u, 'output_tokens'))) END""",
    """CREATE OR REPLACE TEMP MACRO tcx_lf_cached(u) AS coalesce(tc_tokens(json_extract(u, 'input_cache_read')),
         tc_tokens(json_extract(u, 'input_cached_tokens')), tc_tokens(json_extract(u, 'cache_read_input_tokens')),
         tc_tokens(json_extract(u, 'input_cached')), tc_tokens(json_extract(u, '$.prompt_tokens_details.cached_tokens')))""",
    """CREATE OR REPLACE TEMP MACRO tcx_lf_cache_write(u) AS coalesce(tc_tokens(json_extract(u, 'input_cache_creation')),
         tc_tokens(json_extract(u, 'cache_creation_input_tokens')))""",
    # cost_details: the total, else the sum of its parts.
    """CREATE OR REPLACE TEMP MACRO tcx_lf_cost(c) AS coalesce(tc_num(json_extract(c, 'total')),
         list_sum(list_transform(map_values(tc_map(c)), lambda v: tc_num(v))))""",
]


def install(con: duckdb.DuckDBPyConnection) -> None:
    for sql in MACROS:
        con.execute(sql)
