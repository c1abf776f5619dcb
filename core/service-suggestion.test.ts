import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rankServices } from './service-suggestion';

test('allocation picker: the most alike service first, suggested only when alike enough', () => {
  const services = [
    { id: 'S-1', tenant_domain: 'fabrikam.onmicrosoft.com', customer_name: 'Fabrikam Ltd' },
    { id: 'S-2', tenant_domain: 'contosodental.onmicrosoft.com', customer_name: 'Contoso Dental Pty' },
    { id: 'S-3', tenant_domain: 'adatum.onmicrosoft.com', customer_name: 'Adatum' },
  ];
  const r = rankServices({ customer: 'Contoso Dental', domain: 'contosodentalnew.onmicrosoft.com' }, services);
  assert.equal(r.ranked[0]!.id, 'S-2');
  assert.equal(r.suggested?.id, 'S-2');
  assert.equal(r.ranked.length, 3);
  const none = rankServices({ customer: 'Qqq Xxx', domain: 'qqqxxx.onmicrosoft.com' }, services);
  assert.equal(none.suggested, null);
  assert.deepEqual(none.ranked.map((s) => s.id), ['S-3', 'S-2', 'S-1']);
});
