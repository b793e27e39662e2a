// ESLint (flat config): the recommended rules; browser globals for the client, Node's for the build scripts.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["dist/", "dist.new/", "dist.old/", "node_modules/"] },
  js.configs.recommended,
  {
    files: ["src/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.browser },
  },
  {
    files: ["*.js", "*.mjs"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.node },
  },
];
