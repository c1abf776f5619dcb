/** A mistake the user can fix (bad argument, unknown id, refused request): printed as one line, exit 2. */
export class UserError extends Error {
  override name = 'UserError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}
