/** Kept in step with package.json by the release process (a test checks they match). */
export const SDK_VERSION = '0.1.0';
