/** `name` as an SQL identifier (the catalog's table and column names; quoted, so any name is one). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
