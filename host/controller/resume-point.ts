/**
 * Where a G-code controller run stopped, kept beside the stream (`PLAN.hls.resume.json`) so that
 * `hookline run --target grbl --resume` can re-home and continue with the first hook not certainly
 * wound. Written atomically each time another hook is wound and when the run stops.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../atomic-write';
import { UserError, fsErrorText } from '../errors';

export interface ResumePoint {
  format: 'hookline-resume';
  /** sha256 of the stream's bytes: a resume point belongs to exactly one stream. */
  stream: string;
  machineHash: number;
  target: string;
  /** Hooks [0, wound) of the path are wound. */
  wound: number;
  pathLength: number;
  /** Why the run stopped (or "running"). */
  why: string;
  at: string;
}

export function streamDigest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function resumeFile(streamPath: string): string {
  return `${streamPath}.resume.json`;
}

export function saveResumePoint(file: string, p: ResumePoint): void {
  writeFileAtomic(file, JSON.stringify(p, null, 1) + '\n');
}

/** The resume point of this stream, or a UserError that says why there is none. */
export function loadResumePoint(file: string, bytes: Uint8Array, machineHash: number, target: string, streamPath: string): ResumePoint {
  let p: ResumePoint;
  try {
    p = JSON.parse(readFileSync(file, 'utf8')) as ResumePoint;
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ? fsErrorText(e) : 'not JSON';
    throw new UserError(`--resume: cannot read the resume point ${file}: ${why}; run without --resume to start ${streamPath} from the beginning`);
  }
  if (p.format !== 'hookline-resume' || !Number.isInteger(p.wound) || p.wound < 0) {
    throw new UserError(`--resume: ${file} is not a hookline resume point; delete it and run without --resume`);
  }
  if (p.stream !== streamDigest(bytes)) throw new UserError(`--resume: ${file} was written for another stream than ${streamPath}; run without --resume to start this one`);
  if (p.machineHash !== machineHash) throw new UserError(`--resume: ${file} was written for another machine profile; use the profile of that run`);
  if (p.target !== target) throw new UserError(`--resume: ${file} was written by a --target ${p.target} run; resume it with --target ${p.target}`);
  return p;
}
