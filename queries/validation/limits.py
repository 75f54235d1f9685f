"""How much SQL the parser is given: sqlglot recurses once per nesting level, so ``((((…`` twenty thousand
deep exhausts Python's stack after seconds. Text longer or deeper than any real AMC query is refused up
front, in linear time, with a message instead of a parse."""

MAX_SQL_CHARS = 100_000
MAX_NESTING = 32  # parentheses and brackets open at once; real AMC queries stay well under 20


def sql_limit_problem(sql: str) -> str | None:
    if len(sql) > MAX_SQL_CHARS:
        return f"The query is longer than {MAX_SQL_CHARS:,} characters; AMC queries are far shorter."
    depth = deepest = 0
    quote = ""
    for char in sql:  # quotes are tracked so that parentheses inside literals do not count
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]":
            depth -= 1
    if deepest > MAX_NESTING:
        return f"The query nests parentheses more than {MAX_NESTING} deep; simplify it."
    return None
