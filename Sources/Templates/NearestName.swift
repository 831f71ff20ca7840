/// The name a user most likely meant: `firstname` for a column `first_name`, `conections`
/// for the key `connections`. For "did you mean" in errors.
public enum NearestName {
    /// The candidate nearest to `name` (case, spaces, dashes and underscores aside), if
    /// one is near enough: at most a third of the name's letters edited.
    public static func nearest(_ name: String, among candidates: [String]) -> String? {
        func bare(_ text: String) -> [Character] { Array(FieldName.key(text).filter { $0 != "_" }) }
        let target = bare(name)
        let scored = candidates.map { ($0, distance(target, bare($0))) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(1, target.count / 3) else { return nil }
        return best.0
    }

    /// Edit distance counting a swap of two neighbours as one edit (`ctiy` → `city`).
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}
