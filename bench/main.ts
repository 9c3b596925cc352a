// `npm run bench` entry: the ingest capacity bench by default; `--soak` runs the memory soak and
// `--dashboard` the dashboard bench instead (the other flags go to the chosen bench).
const argv = process.argv.slice(2);
const mode = argv.includes('--soak') ? 'soak' : argv.includes('--dashboard') ? 'dashboard' : 'ingest';
process.argv = [...process.argv.slice(0, 2), ...argv.filter((a) => a !== '--soak' && a !== '--dashboard')];
await import(`./${mode}.ts`);
