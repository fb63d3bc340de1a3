export { ActionCapture } from './capture';
export { captureConfig } from './config';
export { NotebookOptOut } from './optout';
