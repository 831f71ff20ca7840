import CivilDates

/// RFC 5322 dates (`Thu, 26 Nov 2026 23:20:53 +0000`), written without a formatter:
/// composing runs once per message.
public enum MessageDate {
    private static let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Formats seconds since 1970 in UTC.
    public static func format(secondsSince1970 seconds: Int64) -> String {
        let t = civil(seconds)
        return "\(days[t.weekday]), \(t.day) \(months[t.month - 1]) \(t.year) \(two(t.second / 3600)):\(two(t.second / 60 % 60)):\(two(t.second % 60)) +0000"
    }

    /// ISO 8601 in UTC: `2026-11-26T23:20:53Z`.
    public static func iso8601(secondsSince1970 seconds: Double) -> String {
        let t = civil(Int64(seconds.rounded(.down)))
        return "\(t.year)-\(two(t.month))-\(two(t.day))T\(two(t.second / 3600)):\(two(t.second / 60 % 60)):\(two(t.second % 60))Z"
    }

    private static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// Year, month, day, weekday (0 = Thursday) and second of the day; Howard Hinnant's days-to-civil.
    private static func civil(_ seconds: Int64) -> (year: Int, month: Int, day: Int, weekday: Int, second: Int) {
        let dayNumber = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let secondOfDay = Int(seconds - Int64(dayNumber) * 86_400)
        let (year, month, day) = CivilDate.from(daysSince1970: dayNumber)
        return (year, month, day, ((dayNumber % 7) + 7) % 7, secondOfDay)
    }
}
