// The one translation unit that holds Asio's, Asio.SSL's and Beast's
// compiled implementation (see BOOST_*_SEPARATE_COMPILATION).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
