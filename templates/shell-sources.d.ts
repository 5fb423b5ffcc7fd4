/** Shell source files (templates/*.sh) are imported as their text: esbuild's text loader, and the same in vitest.config.ts. */
declare module "*.sh" {
  const source: string;
  export default source;
}
