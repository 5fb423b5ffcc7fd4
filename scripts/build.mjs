// `npm run build`: bundles the project's commands with esbuild into dist/ (what `cdktf synth` and
// every `npm run <command>` execute); scripts/bundle.cjs holds the options. Shell source files
// (templates/*.sh) are bundled as text. Always builds; `npm run synth` builds only when a source
// changed (scripts/synth-cli.cjs).
import bundle from "./bundle.cjs";

bundle.build();
