import CCurl
import Delivery
import CurlShim

/// libcurl's process-wide set-up, done once before any handle exists.
enum Curl {
    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    static func ensureInitialized() {
        _ = initialized
    }

    /// curl's own words for a result code.
    static func describe(_ code: CURLcode) -> String {
        String(cString: curl_easy_strerror(code))
    }
}

/// An easy handle with typed options; closes its connection (QUIT) when released.
final class CurlHandle {
    let raw: UnsafeMutableRawPointer
    private var lists: [UnsafeMutablePointer<curl_slist>] = []
    /// curl writes its error detail here during a transfer.
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    init() throws(TransportError) {
        Curl.ensureInitialized()
        guard let handle = curl_easy_init() else { throw TransportError("libcurl could not create a handle (out of memory?)") }
        raw = handle
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        bs_setopt_pointer(raw, CURLOPT_ERRORBUFFER, errorBuffer)
        set(CURLOPT_NOSIGNAL, 1)
    }

    private var closed = false

    /// Ends the connection now (libcurl says QUIT on a live SMTP connection); the handle is
    /// not used again. Released without it, the handle closes the same way.
    func close() {
        guard !closed else { return }
        closed = true
        curl_easy_cleanup(raw)
    }

    deinit {
        close()
        for list in lists { curl_slist_free_all(list) }
        errorBuffer.deallocate()
    }

    @discardableResult
    func set(_ option: CURLoption, _ value: Int) -> CURLcode { bs_setopt_long(raw, option, value) }

    @discardableResult
    func set(_ option: CURLoption, _ value: String?) -> CURLcode {
        guard let value else { return bs_setopt_string(raw, option, nil) }
        // curl copies string options (since 7.17), so the C string may go away afterwards.
        return value.withCString { bs_setopt_string(raw, option, $0) }
    }

    /// Sets a list option; the list lives as long as the handle or until replaced.
    func set(_ option: CURLoption, list items: [String]) {
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for item in items { list = curl_slist_append(list, item) }
        bs_setopt_slist(raw, option, list)
        for old in lists { curl_slist_free_all(old) }
        lists = list.map { [$0] } ?? []
    }

    func perform() -> CURLcode {
        errorBuffer[0] = 0
        return curl_easy_perform(raw)
    }

    /// The detail curl gave for the last failure, or its generic words for `code`.
    func errorDetail(_ code: CURLcode) -> String {
        let detail = String(cString: errorBuffer)
        return detail.isEmpty ? Curl.describe(code) : detail
    }
}
