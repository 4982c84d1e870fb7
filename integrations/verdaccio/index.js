// Verdaccio loads this folder as the plugin "verdaccio-ledger"; the plugin itself is plugin.ts,
// compiled by `npm run build:lib` (run by `npm ci` and `npm install`) into dist/.
export { default } from "../../dist/integrations/verdaccio/plugin.js";
