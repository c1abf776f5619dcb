import { test } from 'node:test';
import assert from 'node:assert/strict';
import { printRows } from '../client/output';

function printed(rows: Array<Record<string, unknown>>): string {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- put back as it was, below
  const write = process.stdout.write;
  let out = '';
  process.stdout.write = (chunk: string) => ((out += chunk), true);
  try {
    printRows(rows, false);
  } finally {
    process.stdout.write = write;
  }
  return out;
}

test('a table never cuts a reason with a GUID in it, and a cell it does cut ends in … with a note saying --json has it whole', () => {
  const guid = '34516e04-0500-40ac-a640-c5befd027f44';
  const whole = printed([{ id: 1, detail: `no rate rule for product ${guid}` }]);
  assert.ok(whole.includes(guid), whole);
  assert.doesNotMatch(whole, /…/);
  const long = 'a revision of this record was received before the one billed, '.repeat(3);
  const cut = printed([{ id: 2, detail: long }]);
  const row = cut.split('\n')[2]!;
  assert.match(row, /…$/);
  assert.equal(row.length, 'id'.length + '  '.length + 80, 'the detail column is 80 characters wide');
  assert.match(cut, /\(a cell ending in … is cut; --json has it whole\)\n$/);
  // Ids are never cut.
  const key = `p-1|NO_RATE_CARD|${guid}`.repeat(3);
  assert.ok(printed([{ group: key }]).includes(key));
});
