/**
 * What `ridge.json` of a saved model starts with. Version 3 stores one factor file per alpha (groups name theirs);
 * version 2 added `form` (dual or primal); version 1 was dual only.
 */
export const MODEL_FORMAT = 'neurodecode-ridge';
export const MODEL_FORMAT_VERSION = 3;
