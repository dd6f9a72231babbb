import 'reflect-metadata';
import { migrationDataSource } from './migrations/data-source';

/** For the TypeORM CLI (`npx typeorm -d dist/ormconfig.js migration:show`). */
export default migrationDataSource();
