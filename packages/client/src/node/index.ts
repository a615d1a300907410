/**
 * @burrow/client/node — Node adapters: TCP transit dialer and listener, file
 * sources and sinks.
 */
export {};
