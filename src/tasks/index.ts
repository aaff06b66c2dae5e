export { createTaskService, callerOf, localCaller, newTaskId, type TaskService, type TaskServiceOptions, type TaskCaller, type CallerTaskStore } from './service.js';
export { openTaskRecords } from './open.js';
export type { TaskRecords, TaskRow } from './records.js';
