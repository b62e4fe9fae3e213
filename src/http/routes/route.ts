/**
 * What the API's routes share: Express 4 does not catch rejected promises, so `route` hands them
 * on — a ValidationError as a 400 with every field error, a NameTakenError as a 409, a
 * ForbiddenError as a 403, anything else to the server's error handler.
 */
import type { NextFunction, Request, Response } from "express";
import { ForbiddenError, NameTakenError, ValidationError, type FieldError } from "../../validation.js";

export function badRequest(res: Response, what: string, errors: FieldError[]): void {
  res.status(400).json({ error: "validation_failed", message: `invalid ${what}`, errors });
}

export const route = (fn: (req: Request, res: Response) => Promise<unknown>) => (req: Request, res: Response, next: NextFunction) => {
  fn(req, res).catch((error: unknown) => {
    if (error instanceof ValidationError) return badRequest(res, error.what, error.errors);
    if (error instanceof NameTakenError) return res.status(409).json({ error: "name_taken", message: error.message });
    if (error instanceof ForbiddenError) return res.status(403).json({ error: "forbidden", message: error.message });
    next(error);
  });
};

/** 404 for a named resource that is not there ("schedule", "hook", "template"). */
export function notFound(res: Response, what: string, id: string): void {
  res.status(404).json({ error: "not_found", message: `no ${what} with id or name '${id}'` });
}
