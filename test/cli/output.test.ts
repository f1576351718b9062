import { describe, expect, it } from 'vitest';
import { renderTable } from '../../src/cli/output.js';

const widthOf = (text: string) => Math.max(...text.split('\n').map((line) => line.length));

describe('renderTable', () => {
  const head = ['#', 'request type', 'keys'];
  const rows = [[1, 'Grant write access to the payments-api repository for the new contractor team', 'PLAT-1 PLAT-2 PLAT-3 PLAT-4 PLAT-5 PLAT-6 PLAT-7']];

  it('keeps a table that fits as it is', () => {
    const text = renderTable(head, rows, 400);
    expect(text).toContain(String(rows[0][1]));
    expect(widthOf(text)).toBeLessThan(400);
  });

  it('fits a wide table into the width by wrapping the widest cells at word boundaries, losing no word', () => {
    const text = renderTable(head, rows, 60);
    expect(widthOf(text)).toBeLessThanOrEqual(60);
    const words = text.replace(/[│┌┐└┘├┤┬┴┼─]/g, ' ').split(/\s+/).filter(Boolean);
    for (const word of String(rows[0][1]).split(' ')) expect(words).toContain(word);
    expect(text).not.toMatch(/\x1b\[/);
  });
});
