/** What a cross-field rule finds: the field to fix and a message that says how. */
export interface Problem {
  readonly path: (string | number)[];
  readonly message: string;
}
