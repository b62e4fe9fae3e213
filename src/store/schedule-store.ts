/**
 * The schedules' table, beside the tasks' in the same database (PGlite or PostgreSQL): one
 * interface over the SQL files in sql/schedules/.
 */
import type { Db } from "./db.js";
import { claimDueSchedules } from "./sql/schedules/claim-due-schedules.js";
import { deleteSchedule } from "./sql/schedules/delete-schedule.js";
import { finishFiring, type Firing } from "./sql/schedules/finish-firing.js";
import { insertSchedule } from "./sql/schedules/insert-schedule.js";
import { listSchedules } from "./sql/schedules/list-schedules.js";
import { nextScheduleDue } from "./sql/schedules/next-schedule-due.js";
import type { ScheduleFields, ScheduleRow } from "./sql/schedules/schedule-row.js";
import { selectSchedule } from "./sql/schedules/select-schedule.js";
import { updateSchedule } from "./sql/schedules/update-schedule.js";

export class ScheduleStore {
  constructor(readonly db: Db) {}

  insert(id: string, fields: ScheduleFields): Promise<ScheduleRow | undefined> {
    return insertSchedule(this.db, id, fields);
  }

  get(idOrName: string): Promise<ScheduleRow | undefined> {
    return selectSchedule(this.db, idOrName);
  }

  list(): Promise<ScheduleRow[]> {
    return listSchedules(this.db);
  }

  update(id: string, fields: ScheduleFields): Promise<ScheduleRow | undefined> {
    return updateSchedule(this.db, id, fields);
  }

  delete(id: string): Promise<boolean> {
    return deleteSchedule(this.db, id);
  }

  claimDue(workerId: string, leaseMs: number, limit: number): Promise<ScheduleRow[]> {
    return claimDueSchedules(this.db, workerId, leaseMs, limit);
  }

  finishFiring(workerId: string, firing: Firing): Promise<ScheduleRow | undefined> {
    return finishFiring(this.db, workerId, firing);
  }

  nextDue(): Promise<Date | undefined> {
    return nextScheduleDue(this.db);
  }
}
