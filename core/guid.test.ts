import test from 'node:test';
import assert from 'node:assert/strict';
import { GUID_PATTERN, isGuid } from './guid';

test('isGuid: exactly what GUID_PATTERN accepts, any case', () => {
  assert.equal(isGuid('f9a31386-aa03-4f24-a5b5-954df043c71a'), true);
  assert.equal(isGuid('F9A31386-AA03-4F24-A5B5-954DF043C71A'), true);
  for (const text of [
    '',
    'f9a31386aa034f24a5b5954df043c71a',
    'f9a31386-aa03-4f24-a5b5-954df043c71',
    'f9a31386-aa03-4f24-a5b5-954df043c71g',
    'f9a31386_aa03-4f24-a5b5-954df043c71a',
    '{9a31386-aa03-4f24-a5b5-954df043c71a}',
  ]) {
    assert.equal(isGuid(text), false, text);
  }
  assert.equal(isGuid(12), false);
  // Every character of the alphabet and around it, in every position, against the pattern.
  const base = 'f9a31386-aa03-4f24-a5b5-954df043c71a';
  for (let i = 0; i < 36; i++) {
    for (let c = 32; c < 128; c++) {
      const text = base.slice(0, i) + String.fromCharCode(c) + base.slice(i + 1);
      assert.equal(isGuid(text), GUID_PATTERN.test(text), JSON.stringify(text));
    }
  }
});
