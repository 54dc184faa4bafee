// "Did you mean …?" for a value that is not in a known list: the closest entries by edit
// distance (a swapped pair of letters counts as one edit, the usual typo).

/** Edits (insert, delete, substitute, swap two neighbours) between a and b, ignoring case. */
export function editDistance(first: string, second: string): number {
  const a = first.toLowerCase();
  const b = second.toLowerCase();
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The entries of `known` nearest to `value` (at most 2 edits away; all equally near), at most `max`. */
export function closest(value: string, known: readonly string[], max = 3): string[] {
  const scored = known.map((k) => ({ k, d: editDistance(value, k) })).filter(({ d }) => d <= 2);
  const best = Math.min(...scored.map(({ d }) => d));
  return scored
    .filter(({ d }) => d === best)
    .map(({ k }) => k)
    .sort()
    .slice(0, max);
}

/** "'a'", "'a' or 'b'", "'a', 'b' or 'c'". */
const either = (values: readonly string[]) => {
  const quoted = values.map((v) => `'${v}'`);
  return quoted.length === 1 ? quoted[0]! : `${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}`;
};

/**
 * "; did you mean 'a'?" for the nearest entries; when none is near but `family(value)`
 * names entries (an instance family's sizes), "; did you mean one of 'x', 'y' or 'z'?";
 * otherwise "".
 */
export function didYouMean(value: string, known: readonly string[], family?: (value: string) => readonly string[]): string {
  const near = closest(value, known);
  if (near.length > 0) return `; did you mean ${either(near)}?`;
  const relatives = family?.(value) ?? [];
  return relatives.length > 0 ? `; did you mean one of ${either(relatives)}?` : "";
}
