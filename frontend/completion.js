// Autocomplete for the SQL editor, as the user types: tables after FROM/JOIN, columns of the tables in scope
// (qualified by a table name or an alias, or bare), AMC functions and the query's {{parameters}}.
// The catalog comes from the hints endpoint (queries/views/catalog.py): {columns: {table: [{name, type, kind}]},
// functions: [{name, signature, description, aggregate}]}.

const TABLE_CLAUSE = /\b(from|join)\s*$/i;
const TABLE_LIST = /\bfrom\s+[\w.]+(?:\s+(?:as\s+)?\w+)?(?:\s*,\s*[\w.]+(?:\s+(?:as\s+)?\w+)?)*\s*,\s*$/i;
const NOT_ALIASES = new Set(
  "on where join left right inner outer full cross group order limit union having window using natural as select"
    .split(" "),
);

export const catalog = { columns: {}, functions: [] };

export function loadCatalog(url) {
  return fetch(url, { credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : null))
    .then((data) => {
      if (data) {
        catalog.columns = data.columns || {};
        catalog.functions = data.functions || [];
      }
    })
    .catch(() => {});
}

// Tables named after FROM or JOIN (or in a FROM list), with their aliases: {alias or table (lower case): table}.
export function tablesInScope(text) {
  const known = new Map(Object.keys(catalog.columns).map((t) => [t.toLowerCase(), t]));
  const scope = new Map();
  const add = (name, alias) => {
    const table = known.get(name.toLowerCase().split(".").pop());
    if (!table) return;
    scope.set(table.toLowerCase(), table);
    if (alias && !NOT_ALIASES.has(alias.toLowerCase())) scope.set(alias.toLowerCase(), table);
  };
  const clause = /\b(?:from|join)\s+([\w.]+)(?:\s+(?:as\s+)?(\w+))?((?:\s*,\s*[\w.]+(?:\s+(?:as\s+)?\w+)?)*)/gi;
  for (const match of text.matchAll(clause)) {
    add(match[1], match[2]);
    for (const more of (match[3] || "").matchAll(/,\s*([\w.]+)(?:\s+(?:as\s+)?(\w+))?/gi)) add(more[1], more[2]);
  }
  return scope;
}

// Parameter names used in the query ({{name}} and CUSTOM_PARAMETER('name')) and listed in the parameter panel.
export function queryParameters(text) {
  const names = new Set();
  for (const match of text.matchAll(/\{\{\s*(\w+)/g)) names.add(match[1]);
  for (const match of text.matchAll(/CUSTOM_PARAMETER\(\s*'(\w+)'/gi)) names.add(match[1]);
  document.querySelectorAll("#parameter-panel .parameter-table code").forEach((node) => names.add(node.textContent));
  return [...names].sort();
}

function columnOption(column, table, boost = 0) {
  return {
    label: column.name,
    type: "property",
    detail: table ? `${column.type} · ${table}` : column.type,
    info: column.description || undefined,
    kind: column.kind,
    boost,
  };
}

function tableOption(table) {
  const columns = catalog.columns[table];
  return { label: table, type: "class", detail: `table · ${columns.length} columns`, boost: 1 };
}

function functionOption(fn) {
  return {
    label: fn.name,
    type: "function",
    detail: fn.signature,
    info: fn.description,
    kind: fn.aggregate ? "aggregate" : "function",
    apply: `${fn.name}(`,
    boost: -1,
  };
}

export function sqlCompletionSource(context) {
  const state = context.state;
  const before = state.sliceDoc(Math.max(0, context.pos - 2000), context.pos);

  const parameter = before.match(/\{\{\s*(\w*)$/);
  if (parameter) {
    const from = context.pos - parameter[1].length;
    const options = queryParameters(state.doc.toString()).map((name) => ({
      label: name,
      type: "variable",
      detail: "parameter",
      apply: state.sliceDoc(context.pos, context.pos + 2) === "}}" ? name : `${name}}}`,
    }));
    return { from, options, validFor: /^\w*$/ };
  }

  const qualified = before.match(/(\w+)\.(\w*)$/);
  if (qualified) {
    const scope = tablesInScope(state.doc.toString());
    const table = scope.get(qualified[1].toLowerCase()) || tablesInScope(`from ${qualified[1]}`).get(qualified[1].toLowerCase());
    if (!table) return null;
    return {
      from: context.pos - qualified[2].length,
      options: catalog.columns[table].map((c) => columnOption(c, null)),
      validFor: /^\w*$/,
    };
  }

  const word = context.matchBefore(/\w*$/);
  const head = before.slice(0, before.length - word.text.length);
  if (TABLE_CLAUSE.test(head) || TABLE_LIST.test(head)) {
    return { from: word.from, options: Object.keys(catalog.columns).map(tableOption), validFor: /^\w*$/ };
  }
  if (!word.text && !context.explicit) return null;

  const scope = tablesInScope(state.doc.toString());
  const tables = [...new Set(scope.values())];
  const options = [];
  for (const table of tables) {
    for (const column of catalog.columns[table]) options.push(columnOption(column, tables.length > 1 ? table : null, 2));
  }
  for (const fn of catalog.functions) options.push(functionOption(fn));
  if (!tables.length) options.push(...Object.keys(catalog.columns).map(tableOption));
  return { from: word.from, options, validFor: /^\w*$/ };
}

// The dimension/metric badge beside each option (rendered by @codemirror/autocomplete's addToOptions).
const BADGES = { dimension: ["D", "dimension"], metric: ["M", "metric"], aggregate: ["Σ", "aggregate function"] };

export const badgeRenderer = {
  position: 20,
  render(completion) {
    const badge = BADGES[completion.kind];
    if (!badge) return null;
    const node = document.createElement("span");
    node.className = `cm-kind-badge cm-kind-${completion.kind}`;
    node.textContent = badge[0];
    node.title = badge[1];
    return node;
  },
};
