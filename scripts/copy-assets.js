// `npm run build`, after tsc: copies what the compiled code reads at run time but tsc does not
// emit (SQL migrations, templates, static files) into the output folder, same layout.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const out = path.resolve(root, process.argv[2] || 'dist');
const dirs = ['core', 'lib', 'carrier', 'config', 'db', 'workflows', 'activities', 'workers', 'client'];

function copy(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const from = path.join(dir, entry.name);
    if (entry.isDirectory()) copy(from);
    else if (!entry.name.endsWith('.ts')) {
      const to = path.join(out, path.relative(root, from));
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(from, to);
    }
  }
}
for (const d of dirs) if (fs.existsSync(path.join(root, d))) copy(path.join(root, d));
