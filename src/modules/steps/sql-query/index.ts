import type { StepPlugin } from '../step-plugin';
import { SqlQueryExecutor } from './sql-query.executor';
import { SQL_QUERY_STEP } from './sql-query.step';

export const plugin: StepPlugin = { order: 70, steps: [SQL_QUERY_STEP], executor: SqlQueryExecutor };
