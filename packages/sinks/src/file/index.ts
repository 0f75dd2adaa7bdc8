export { fileSink, type FileSinkOptions } from './file-sink.js';
