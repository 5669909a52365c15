/**
 * The `capacity` highest-scoring ids seen since clear(), kept sorted by score (highest first) by
 * insertion into a small fixed array: the planners rank every candidate line cheaply and score
 * only these exactly. Ties keep the earlier id ahead. Nothing is allocated after construction.
 */
export class Shortlist {
  size = 0;
  private readonly score: Float64Array;
  readonly ids: Int32Array;

  constructor(private readonly capacity: number) {
    this.score = new Float64Array(Math.max(1, capacity));
    this.ids = new Int32Array(Math.max(1, capacity));
  }

  clear(): void {
    this.size = 0;
  }

  offer(score: number, id: number): void {
    const top = this.score;
    const ids = this.ids;
    if (this.size === this.capacity && score <= top[this.size - 1]) return;
    let j = this.size < this.capacity ? this.size++ : this.size - 1;
    while (j > 0 && top[j - 1] < score) {
      top[j] = top[j - 1];
      ids[j] = ids[j - 1];
      j--;
    }
    top[j] = score;
    ids[j] = id;
  }
}
