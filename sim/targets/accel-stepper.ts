/**
 * AccelStepper (Mike McCauley, the copy in ConfigurableFirmata's src/utility, v1.23) and its
 * MultiStepper, re-implemented step for step for the fake Firmata board: the same state, the same
 * equations (David Austin's per-step approximation, eq. 13/15/16/17), the same 32-bit float
 * arithmetic (an AVR's float and double are both IEEE single: Math.fround after every operation)
 * and the same integer truncations (`long`, `unsigned long`). The board decides when run() is
 * called; `time` is its micros().
 */
const f = Math.fround;

export const DIRECTION_CCW = 0;
export const DIRECTION_CW = 1;

/** Called for every step with the new position and the direction (1 = CW, +). */
export type StepFn = (direction: number) => void;

export class AccelStepperModel {
  currentPos = 0;
  targetPos = 0;
  speed = 0;
  maxSpeed = 1;
  acceleration = 0;
  /** unsigned long µs; 0 = do not step. */
  stepInterval = 0;
  lastStepTime = 0;
  n = 0;
  c0 = 0;
  cn = 0;
  cmin = 1;
  direction = DIRECTION_CCW;

  constructor(private stepFn: StepFn) {
    this.setAcceleration(1);
  }

  moveTo(absolute: number): void {
    if (this.targetPos !== absolute) {
      this.targetPos = absolute;
      this.computeNewSpeed();
    }
  }

  move(relative: number): void {
    this.moveTo(this.currentPos + relative);
  }

  distanceToGo(): number {
    return this.targetPos - this.currentPos;
  }

  runSpeed(time: number): boolean {
    if (!this.stepInterval) return false;
    if (time - this.lastStepTime >= this.stepInterval) {
      this.currentPos += this.direction === DIRECTION_CW ? 1 : -1;
      this.stepFn(this.direction);
      this.lastStepTime = time;
      return true;
    }
    return false;
  }

  setCurrentPosition(position: number): void {
    this.targetPos = this.currentPos = position;
    this.n = 0;
    this.stepInterval = 0;
    this.speed = 0;
  }

  computeNewSpeed(): void {
    const distanceTo = this.distanceToGo();
    const stepsToStop = Math.trunc(f(f(this.speed * this.speed) / f(2 * this.acceleration)));
    if (distanceTo === 0 && stepsToStop <= 1) {
      this.stepInterval = 0;
      this.speed = 0;
      this.n = 0;
      return;
    }
    if (distanceTo > 0) {
      if (this.n > 0) {
        if (stepsToStop >= distanceTo || this.direction === DIRECTION_CCW) this.n = -stepsToStop;
      } else if (this.n < 0) {
        if (stepsToStop < distanceTo && this.direction === DIRECTION_CW) this.n = -this.n;
      }
    } else if (distanceTo < 0) {
      if (this.n > 0) {
        if (stepsToStop >= -distanceTo || this.direction === DIRECTION_CW) this.n = -stepsToStop;
      } else if (this.n < 0) {
        if (stepsToStop < -distanceTo && this.direction === DIRECTION_CCW) this.n = -this.n;
      }
    }
    if (this.n === 0) {
      this.cn = this.c0;
      this.direction = distanceTo > 0 ? DIRECTION_CW : DIRECTION_CCW;
    } else {
      this.cn = f(this.cn - f(f(2 * this.cn) / f(f(4 * this.n) + 1)));
      if (this.cn < this.cmin) this.cn = this.cmin;
    }
    this.n++;
    this.stepInterval = Math.trunc(this.cn);
    this.speed = f(1000000 / this.cn);
    if (this.direction === DIRECTION_CCW) this.speed = -this.speed;
  }

  run(time: number): boolean {
    if (this.runSpeed(time)) this.computeNewSpeed();
    return this.speed !== 0 || this.distanceToGo() !== 0;
  }

  setMaxSpeed(speed: number): void {
    speed = f(Math.abs(speed));
    if (this.maxSpeed !== speed) {
      this.maxSpeed = speed;
      this.cmin = f(1000000 / speed);
      if (this.n > 0) {
        this.n = Math.trunc(f(f(this.speed * this.speed) / f(2 * this.acceleration)));
        this.computeNewSpeed();
      }
    }
  }

  setAcceleration(acceleration: number): void {
    if (acceleration === 0) return;
    acceleration = f(Math.abs(acceleration));
    if (this.acceleration !== acceleration) {
      this.n = Math.trunc(f(this.n * f(this.acceleration / acceleration)));
      this.c0 = f(f(0.676 * f(Math.sqrt(f(2 / acceleration)))) * 1000000);
      this.acceleration = acceleration;
      this.computeNewSpeed();
    }
  }

  setSpeed(speed: number): void {
    speed = f(speed);
    if (speed === this.speed) return;
    if (speed > this.maxSpeed) speed = this.maxSpeed;
    if (speed < -this.maxSpeed) speed = -this.maxSpeed;
    if (speed === 0) this.stepInterval = 0;
    else {
      this.stepInterval = Math.trunc(f(Math.abs(f(1000000 / speed))));
      this.direction = speed > 0 ? DIRECTION_CW : DIRECTION_CCW;
    }
    this.speed = speed;
  }

  stop(): void {
    if (this.speed !== 0) {
      const stepsToStop = Math.trunc(f(f(this.speed * this.speed) / f(2 * this.acceleration))) + 1;
      this.move(this.speed > 0 ? stepsToStop : -stepsToStop);
    }
  }

  /** Earliest micros() at which runSpeed() steps (Infinity when it never will). */
  nextStepAt(): number {
    return this.stepInterval ? this.lastStepTime + this.stepInterval : Infinity;
  }
}

/** AccelStepper's MultiStepper: constant-speed moves of a group that all arrive together. */
export class MultiStepperModel {
  readonly steppers: AccelStepperModel[] = [];

  addStepper(s: AccelStepperModel): void {
    if (this.steppers.length < 10) this.steppers.push(s);
  }

  moveTo(absolute: number[]): void {
    let longestTime = 0;
    for (let i = 0; i < this.steppers.length; i++) {
      const s = this.steppers[i];
      const t = f(Math.abs(absolute[i] - s.currentPos) / s.maxSpeed);
      if (t > longestTime) longestTime = t;
    }
    if (longestTime > 0) {
      for (let i = 0; i < this.steppers.length; i++) {
        const s = this.steppers[i];
        const speed = f((absolute[i] - s.currentPos) / longestTime);
        s.moveTo(absolute[i]);
        s.setSpeed(speed);
      }
    }
  }

  run(time: number): boolean {
    let ret = false;
    for (const s of this.steppers) {
      if (s.distanceToGo() !== 0) {
        s.runSpeed(time);
        ret = true;
      }
    }
    return ret;
  }
}
