/// Bounds that keep one template from crashing a run or running for ever: a clear error
/// names the place instead of a stack overflow (10,000 nested `if`s) or an endless
/// render (loops within loops over long fields).
public enum TemplateLimits {
    /// `{% if %}`/`{% for %}` blocks inside one another.
    public static let blockDepth = 64
    /// Parentheses and `not`s inside one another in an expression.
    public static let expressionDepth = 64
    /// Characters one part of one message may render to.
    public static let outputCharacters = 10_000_000
    /// Loop iterations in one part of one message.
    public static let loopIterations = 1_000_000
}
