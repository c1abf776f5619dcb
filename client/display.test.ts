import { test } from 'node:test';
import assert from 'node:assert/strict';
import { amountsCurrency, displayCycleTimes, displayMoney, displayTime } from './display';

test('amounts read as 2 decimals with the currency code, rounded half away from zero', () => {
  assert.equal(displayMoney('1234.5650000000000000000000001', 'AUD'), '1,234.57 AUD');
  assert.equal(displayMoney('0.0322580645161290322580645161', 'NZD'), '0.03 NZD');
  assert.equal(displayMoney('-0.005', 'AUD'), '-0.01 AUD');
  assert.equal(displayMoney('-0.004', 'AUD'), '0.00 AUD');
  assert.equal(displayMoney('1000000', 'AUD'), '1,000,000.00 AUD');
  assert.equal(displayMoney(null, 'AUD'), '0.00 AUD');
});

test("times read in the provider's zone with the zone shown", () => {
  assert.equal(displayTime('2026-11-25T19:00:00Z', 'Australia/Sydney'), '2026-11-26 06:00 AEDT');
  assert.equal(displayTime('2026-06-25T20:00:00Z', 'Australia/Sydney'), '2026-06-26 06:00 AEST');
  assert.match(displayTime(new Date('2026-11-25T17:00:00Z'), 'Pacific/Auckland'), /^2026-11-26 06:00 (NZDT|GMT\+13)$/);
  assert.equal(displayTime(null, 'UTC'), '');
});

test('schedule times read as the admin set them', () => {
  assert.equal(
    displayCycleTimes(
      [
        { hour: [{ start: 6, end: 6, step: 1 }], minute: [{ start: 0, end: 0, step: 1 }] },
        { hour: [{ start: 18, end: 18, step: 1 }], minute: [{ start: 0, end: 0, step: 1 }] },
      ],
      'Australia/Sydney',
    ),
    '06:00, 18:00 (Australia/Sydney)',
  );
  assert.equal(displayCycleTimes([{ hour: 6, minute: 30 }], undefined), '06:30');
});

test("amountsCurrency: the provider's currency, or the records' own when they carry another; several are named, not summed under one", () => {
  assert.equal(amountsCurrency('AUD'), 'AUD');
  assert.equal(amountsCurrency('AUD', []), 'AUD');
  assert.equal(amountsCurrency('AUD', ['nzd', 'NZD', null]), 'NZD');
  assert.equal(amountsCurrency('NZD', ['USD', 'AUD']), 'in AUD and USD together');
});
