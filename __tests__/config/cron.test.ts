import { longestCronGapSec } from "../../config/cron";

describe("the longest gap between two runs of a cron schedule", () => {
  it.each([
    ["0 */6 * * *", 6 * 3600],
    ["15 * * * *", 3600],
    ["*/20 * * * *", 20 * 60],
    ["0 2 * * *", 24 * 3600],
    ["0 2 * * 1-5", 3 * 24 * 3600],
    ["0 3 * * 0", 7 * 24 * 3600],
    ["0 3 * * 7", 7 * 24 * 3600],
    ["0 0,12 * * *", 12 * 3600],
    ["30 1-5/2 * * *", 20 * 3600],
  ])("%s: %i s", (schedule, seconds) => {
    expect(longestCronGapSec(schedule)).toBe(seconds);
  });

  it("refuses what it cannot read, saying which field", () => {
    expect(() => longestCronGapSec("every day")).toThrow(/needs five fields/);
    expect(() => longestCronGapSec("0 25 * * *")).toThrow(/cron hour "25" is outside 0-23/);
    expect(() => longestCronGapSec("0 0 * JAN *")).toThrow(/cron month "JAN" is not a number/);
  });
});
