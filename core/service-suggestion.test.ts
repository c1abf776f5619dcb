import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rankServices, serviceSuggester } from './service-suggestion';

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
  assert.deepEqual(
    none.ranked.map((s) => s.id),
    ['S-3', 'S-2', 'S-1'],
  );
});

test("serviceSuggester picks rankServices' suggestion, ties included (score, then name, then list order)", () => {
  const services = [
    { id: 'S-1', tenant_domain: 'fabrikam.onmicrosoft.com', customer_name: 'Fabrikam Ltd' },
    { id: 'S-2', tenant_domain: 'shared.onmicrosoft.com', customer_name: 'Zed Dental' },
    { id: 'S-3', tenant_domain: 'shared.onmicrosoft.com', customer_name: 'Abc Dental' },
    { id: 'S-4', tenant_domain: 'contosodental.onmicrosoft.com', customer_name: 'Contoso Dental Pty' },
    { id: 'S-5', tenant_domain: 'contosodental.onmicrosoft.com', customer_name: 'Contoso Dental Pty' },
    { id: 'S-6', tenant_domain: null, customer_name: null },
    ...Array.from({ length: 200 }, (_, i) => ({
      id: `S-${100 + i}`,
      tenant_domain: `customer${i}.onmicrosoft.com`,
      customer_name: `Customer ${i} Pty Ltd`,
    })),
  ];
  const suggest = serviceSuggester(services);
  const names = [
    { customer: 'Contoso Dental', domain: 'contosodentalnew.onmicrosoft.com' },
    { customer: null, domain: 'shared.onmicrosoft.com' },
    { customer: 'Qqq Xxx', domain: 'qqqxxx.onmicrosoft.com' },
    { customer: null, domain: null },
    ...Array.from({ length: 50 }, (_, i) => ({
      customer: `Customer ${i * 7} Limited`,
      domain: `cust${i}.onmicrosoft.com`,
    })),
  ];
  for (const n of names) assert.deepEqual(suggest(n), rankServices(n, services).suggested, JSON.stringify(n));
  assert.equal(suggest(names[1]!)?.id, 'S-3', 'equal scores: the name first in order');
  assert.equal(suggest(names[0]!)?.id, 'S-4', 'equal scores and names: the first listed');
});
