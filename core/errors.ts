/**
 * A problem the user can fix (bad option, missing file, mismatched shapes). The CLI prints its message alone
 * and exits 1; anything else is an internal error (exit 2).
 */
export class UserError extends Error {
  constructor(
    message: string,
    /** Where: a file, plugin or option path — shown before the message. */
    readonly where?: string,
  ) {
    super(where ? `${where}: ${message}` : message);
    this.name = 'UserError';
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}
