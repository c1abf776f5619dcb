import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLosslessNumber } from 'lossless-json';
import { parseNumberPreserving } from './fast-json';
import { jsonNumberToDecimal, parseLosslessJson, stringifyLossless } from './lossless';

/** The value as text with every number's digits shown, so two parses compare exactly. */
const exact = (v: unknown) => stringifyLossless(v);

const RECORD =
  '{"RecordId":"r-1","UnitPrice":17.2,"BillableRatio":0.0322580645161290322580645161,"SubTotal":-1.0161290322580645161290322572,"Quantity":3,"Currency":"AUD","Big":12345678901234567890123,"Exp":1.05E+1,"Neg":-0,"Note":"1.5 and \\"2\\" in text: [3, 4]","Nested":{"a":[1,2.50,{"b":-3e-5}],"c":null,"d":true}}';

test('numbers keep every digit (28 significant digits and more), as LosslessNumber, in their exact text', () => {
  const { value } = parseNumberPreserving(`{"Records":[${RECORD}]}`);
  const r = (value as { Records: Array<Record<string, unknown>> }).Records[0]!;
  for (const [field, text] of [
    ['BillableRatio', '0.0322580645161290322580645161'],
    ['SubTotal', '-1.0161290322580645161290322572'],
    ['Big', '12345678901234567890123'],
    ['Exp', '1.05E+1'],
    ['Neg', '-0'],
    ['Quantity', '3'],
  ] as const) {
    assert.ok(isLosslessNumber(r[field]), field);
    assert.equal((r[field] as { value: string }).value, text, field);
  }
  // Digits inside strings are text, not numbers.
  assert.equal(r.Note, '1.5 and "2" in text: [3, 4]');
  assert.equal(exact(value), exact(parseLosslessJson(`{"Records":[${RECORD}]}`)));
});

test("each record's exact text, as received (whitespace inside kept, around trimmed)", () => {
  const a = '{"RecordId" : "a",\n "Quantity": 1.10}';
  const b = '"not a record"';
  const { value, elementTexts } = parseNumberPreserving(
    `{"Other":[{"x":1}],"Records":[ ${a} ,\n${b},null,[1,{"y":[2]}]], "More": {"Records": [9]}}`,
  );
  assert.deepEqual(elementTexts, [a, b, 'null', '[1,{"y":[2]}]']);
  assert.equal((value as { Records: unknown[] }).Records.length, 4);
  assert.deepEqual(parseNumberPreserving('{"Records":[]}').elementTexts, []);
  assert.equal(parseNumberPreserving('{"Message":"ok"}').elementTexts, null);
  assert.equal(parseNumberPreserving('[1,2]').elementTexts, null);
});

test('the same results as lossless-json where the fast path cannot vouch for document order', () => {
  for (const text of [
    '{"Records":[{"2":1.5,"a":2.25,"1":3.125}]}', // index-like keys are listed first by JavaScript
    '{"Records":[{"a":1,"a":1}]}', // a repeated key with the same value: lossless-json accepts it
    '{"Records":[{"k":"\\u0000","n":0.1000000000000000000000000001}]}',
    '{"__proto__":1.5,"Records":[{"__proto__":{"x":2.5}}]}',
  ]) {
    const fast = parseNumberPreserving(text);
    assert.equal(exact(fast.value), exact(parseLosslessJson(text)), text);
    assert.equal(Object.getPrototypeOf(fast.value), Object.prototype, 'a "__proto__" key never sets the prototype');
  }
});

test('refuses what is not JSON, as lossless-json does: bad numbers, repeated keys with other values, garbage', () => {
  for (const text of [
    '{"Records":[{"a":01}]}',
    '{"Records":[{"a":1.}]}',
    '{"Records":[{"a":.5}]}',
    '{"Records":[{"a":+1}]}',
    '{"Records":[{"a":1e}]}',
    '{"Records":[{"a":--1}]}',
    '{"Records":[{"a":NaN}]}',
    '{"Records":[{"a":Infinity}]}',
    '{"Records":[{"a":0x10}]}',
    '{"Records":[],"Records":[{"RecordId":"x"}]}',
    '{"Records":[{"a":1,"a":2}]}',
    '{1:2}',
    '{"Records":[1 2]}',
    '{"Records":[{"RecordId":"x","Quan',
    '',
    '<html></html>',
    '{"Records":[{"a":"unterminated}]}',
    '{"Records":[]} trailing',
  ]) {
    assert.throws(() => parseLosslessJson(text), Error, `lossless-json accepts ${text}`);
    assert.throws(() => parseNumberPreserving(text), Error, text);
  }
});

test('a whole carrier page parses to exactly what lossless-json gives', () => {
  const lines = Array.from(
    { length: 200 },
    (_, i) =>
      `{"RecordId":"${i}","TenantId":"aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa","ChargeStartDate":"2026-10-0${1 + (i % 9)}T00:00:00+10:00","UnitPrice":${i}.${i}7,"BillableRatio":0.${'3'.repeat(27)}${i % 10},"SubTotal":${-i}.0000000000000000000000000001,"Currency":"AUD"}`,
  );
  const text = `{"Records":[${lines.join(',')}]}`;
  const fast = parseNumberPreserving(text);
  assert.equal(exact(fast.value), exact(parseLosslessJson(text)));
  assert.deepEqual(fast.elementTexts, lines);
});

test('a page of 100 KB or more gives what lossless-json gives, and is refused where it refuses', () => {
  const pad = Array.from({ length: 400 }, (_, i) =>
    RECORD.replace('"r-1"', `"r-${i}"`).replace('17.2', `${i}.${i}`),
  ).join(',\n ');
  const pages = [
    `{"Total":12.50,"Records":[${pad}],"Next":{"Page":2,"Size":[1e3]}}`,
    `{"Records": [ ${pad} , "text, [with] {brackets}", null, [1, {"y": [2.0]}] ] }`,
    `{"Records":[${pad}],"Empty":[],"After":-0.5}`,
  ];
  for (const text of pages) {
    assert.ok(text.length >= 100 * 1024);
    const fast = parseNumberPreserving(text);
    assert.equal(exact(fast.value), exact(parseLosslessJson(text)));
    assert.deepEqual(
      fast.elementTexts,
      (parseLosslessJson(text) as { Records: unknown[] }).Records.map((_, k) => fast.elementTexts![k]),
    );
    assert.equal(fast.elementTexts.length, (parseLosslessJson(text) as { Records: unknown[] }).Records.length);
  }
  assert.deepEqual(parseNumberPreserving(pages[1]!).elementTexts!.slice(-3), [
    '"text, [with] {brackets}"',
    'null',
    '[1, {"y": [2.0]}]',
  ]);
  for (const text of [
    `{"Records":[${pad},]}`,
    `{"Records":[${pad},,{"a":1}]}`,
    `{"Records":[${pad}],"Records":[{"RecordId":"x"}]}`,
    `{"Records":[${pad},{"a":01}]}`,
    `{"Records":[${pad},{"a":1,"a":2}]}`,
    `{"Records":[${pad} {"a":1}]}`,
    `{"Records":[${pad}]} trailing`,
    `{"Records":[${pad}],"x":1.}`,
    `{"Records":[${pad}]`,
  ]) {
    assert.throws(() => parseLosslessJson(text), Error, `lossless-json accepts ${text.slice(-40)}`);
    assert.throws(() => parseNumberPreserving(text), Error, text.slice(-40));
  }
});

test('a number repeated across records and pages is one shared instance, whose exact decimal is worked out once', () => {
  const a = parseNumberPreserving('{"Records":[{"p":17.20,"q":3},{"p":17.20,"q":4}]}').value as {
    Records: Array<{ p: unknown; q: unknown }>;
  };
  const b = parseNumberPreserving('{"Records":[{"p":17.20}]}').value as { Records: Array<{ p: unknown }> };
  assert.equal(a.Records[0]!.p, a.Records[1]!.p);
  assert.equal(a.Records[0]!.p, b.Records[0]!.p);
  assert.notEqual(a.Records[0]!.q, a.Records[1]!.q);
  assert.equal((a.Records[1]!.q as { value: string }).value, '4');
  assert.equal(jsonNumberToDecimal(a.Records[0]!.p), jsonNumberToDecimal(b.Records[0]!.p));
  assert.equal(jsonNumberToDecimal(a.Records[0]!.p)!.toFixed(), '17.2');
});
