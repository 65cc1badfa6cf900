/** Postgres truncates identifiers past 63 bytes; names are cut shorter to leave room for suffixes. */
const MAX_IDENTIFIER = 63;
const MAX_COLUMN = 55;
/** Column names Postgres keeps for itself in every table. */
const SYSTEM_COLUMNS = new Set(['ctid', 'xmin', 'xmax', 'cmin', 'cmax', 'tableoid', 'oid']);

/** Lower-case ASCII letters, digits and underscores; never starting with a digit; at most `max` characters. */
export function identifier(raw: string, max: number): string {
  const ascii = raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  const named = /^\d/.test(ascii) ? `c_${ascii}` : ascii;
  return named.slice(0, max).replace(/_+$/, '');
}

/**
 * A header row as column names: sanitised (`Unit Price (€)` -> `unit_price`), empty ones numbered
 * (`column_3`), system column names suffixed, and duplicates made unique (`amount`, `amount_2`).
 */
export function columnNames(header: Array<string | null>): string[] {
  const used = new Set<string>();
  return header.map((raw, index) => {
    let base = identifier(raw ?? '', MAX_COLUMN) || `column_${index + 1}`;
    if (SYSTEM_COLUMNS.has(base)) base = `${base}_`;
    let name = base;
    for (let n = 2; used.has(name); n += 1) name = `${base}_${n}`;
    used.add(name);
    return name;
  });
}

/**
 * The table a job loads: the file's name without its extension, the sheet when there are several, and the
 * job's id (so each job's tables are its own and a re-run of the job finds the same names).
 */
export function tableName(filename: string, jobId: string, sheet?: string): string {
  const suffix = `_${jobId.replace(/-/g, '').slice(0, 8)}`;
  const stem = identifier(filename.replace(/\.[^.]*$/, ''), 30) || 'document';
  const part = sheet === undefined ? '' : `_${identifier(sheet, 20) || 'sheet'}`;
  return `${stem}${part}`.slice(0, MAX_IDENTIFIER - suffix.length).replace(/_+$/, '') + suffix;
}
