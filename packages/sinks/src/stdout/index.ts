export { stdoutSink, type LineStream, type StdoutSinkOptions } from './stdout-sink.js';
